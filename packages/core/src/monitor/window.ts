// Sliding windows that answer "more than N in the last W ms?" exactly, in memory bounded by N + 1
// entries per actor: the count in the window exceeds N exactly when the (N+1)-th most recent entry
// is still inside it, so older entries never matter.

/**
 * Distinct individuals reached in the window (t - W, t]. Keeps the N + 1 most recently reached,
 * in order of their last access (a Map keeps insertion order; a repeat access moves to the end).
 * Times must not go backwards: callers feed a clock that never does (see monotonic()).
 */
export class DistinctWindow {
  private readonly seen = new Map<string, number>()
  constructor(
    private readonly windowMs: number,
    private readonly cap: number,
  ) {}

  /** Adds an access at `time` and returns how many distinct individuals the window holds (at most cap). */
  add(individual: string, time: number): number {
    const seen = this.seen
    seen.delete(individual)
    seen.set(individual, time)
    if (seen.size > this.cap) seen.delete(seen.keys().next().value as string)
    return this.count(time)
  }

  /** Distinct individuals in (time - W, time], at most cap. */
  count(time: number): number {
    const cutoff = time - this.windowMs
    const seen = this.seen
    for (const [key, at] of seen) {
      if (at > cutoff) break
      seen.delete(key)
    }
    return seen.size
  }
}

/** Records in the window (t - W, t], keeping the last cap timestamps in a ring. */
export class CountWindow {
  private readonly times: number[] = []
  private start = 0
  constructor(
    private readonly windowMs: number,
    private readonly cap: number,
  ) {}

  add(time: number): number {
    const times = this.times
    if (times.length - this.start >= this.cap) this.start++
    times.push(time)
    // Compact now and then rather than shifting per call.
    if (this.start > 64 && this.start * 2 > times.length) {
      times.splice(0, this.start)
      this.start = 0
    }
    return this.count(time)
  }

  count(time: number): number {
    const cutoff = time - this.windowMs
    const times = this.times
    while (this.start < times.length && (times[this.start] as number) <= cutoff) this.start++
    return times.length - this.start
  }
}

/** A clock reading that never goes backwards (wall clocks do, under NTP). */
export function monotonic(): (time: number) => number {
  let last = Number.NEGATIVE_INFINITY
  return (time) => {
    if (time > last) last = time
    return last
  }
}
