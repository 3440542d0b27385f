// Sliding windows that answer "more than N in the last W ms?" exactly, in memory bounded by N + 1
// entries per actor: the count in the window exceeds N exactly when the (N+1)-th most recent entry
// is still inside it, so older entries never matter.

interface Node {
  key: string
  time: number
  newer: Node | undefined
  older: Node | undefined
}

/**
 * Distinct individuals reached in the window (t - W, t]: the N + 1 most recently reached, as a list
 * from newest to oldest last access (a repeat access moves its individual to the front), with a Map
 * to find them. Times must not go backwards: callers feed a clock that never does (see monotonic()).
 */
export class DistinctWindow {
  private readonly nodes = new Map<string, Node>()
  private newest: Node | undefined
  private oldest: Node | undefined
  constructor(
    private readonly windowMs: number,
    private readonly cap: number,
  ) {}

  /** Adds an access at `time` and returns how many distinct individuals the window holds (at most cap). */
  add(individual: string, time: number): number {
    let node = this.nodes.get(individual)
    if (node !== undefined) {
      node.time = time
      if (node !== this.newest) {
        this.unlink(node)
        this.pushNewest(node)
      }
    } else {
      node = { key: individual, time, newer: undefined, older: undefined }
      this.nodes.set(individual, node)
      this.pushNewest(node)
      if (this.nodes.size > this.cap) this.dropOldest()
    }
    return this.count(time)
  }

  /** Distinct individuals in (time - W, time], at most cap. */
  count(time: number): number {
    const cutoff = time - this.windowMs
    while (this.oldest !== undefined && this.oldest.time <= cutoff) this.dropOldest()
    return this.nodes.size
  }

  private pushNewest(node: Node): void {
    node.older = this.newest
    node.newer = undefined
    if (this.newest !== undefined) this.newest.newer = node
    this.newest = node
    if (this.oldest === undefined) this.oldest = node
  }

  private unlink(node: Node): void {
    if (node.newer !== undefined) node.newer.older = node.older
    else this.newest = node.older
    if (node.older !== undefined) node.older.newer = node.newer
    else this.oldest = node.newer
  }

  private dropOldest(): void {
    const node = this.oldest as Node
    this.unlink(node)
    this.nodes.delete(node.key)
  }
}

/** Records in the window (t - W, t]: the last cap timestamps in a ring (oldest at `head`). */
export class CountWindow {
  private readonly times: number[] = []
  private head = 0
  private size = 0
  constructor(
    private readonly windowMs: number,
    private readonly cap: number,
  ) {}

  add(time: number): number {
    const times = this.times
    if (this.size < this.cap) {
      // The ring grows by appending until it holds cap entries, then overwrites the oldest.
      times[(this.head + this.size) % this.cap] = time
      this.size++
    } else {
      times[this.head] = time
      this.head = (this.head + 1) % this.cap
    }
    return this.count(time)
  }

  count(time: number): number {
    const cutoff = time - this.windowMs
    const times = this.times
    while (this.size > 0 && (times[this.head] as number) <= cutoff) {
      this.head = (this.head + 1) % this.cap
      this.size--
    }
    return this.size
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
