// Per-process counts: one pair of sliding windows per actor, in memory.
import { RecentMap } from '../recent-map'
import { CountWindow, DistinctWindow } from './window'

/** An actor's counts in the two windows after one access (0 for a rule that is off). */
export interface Counts {
  individuals: number
  records: number
  /**
   * From a shared store only: which counting rules may alert now (1 breadth, 2 rate), decided for
   * all replicas at once. Undefined: the engine decides (one alert per window in this process).
   */
  fresh?: number
}

/** Window settings of the counting rules; a threshold of undefined turns that count off. */
export interface CountSettings {
  breadth?: { threshold: number; windowMs: number }
  rate?: { threshold: number; windowMs: number }
}

interface ActorWindows {
  distinct: DistinctWindow | undefined
  records: CountWindow | undefined
  last: number
}

/** Actors remembered at most; past it the actor seen first is forgotten (idle ones go at each sweep). */
const MAX_ACTORS = 100_000
const SWEEP_EVERY = 4096

export class MemoryCounts {
  // Bounded by the actor seen first, in O(1): trimming a Map with `delete(keys().next().value)` costs
  // V8 a step over every earlier deleted entry (recent-map.ts), and a full map takes that path on
  // each new actor.
  private readonly actors = new RecentMap<string, ActorWindows>(MAX_ACTORS)
  private readonly longestMs: number
  private adds = 0
  /** The answer of add(), reused: read it before the next add() (copy it to keep it). */
  private readonly counts: Counts = { individuals: 0, records: 0 }

  constructor(private readonly settings: CountSettings) {
    this.longestMs = Math.max(settings.breadth?.windowMs ?? 0, settings.rate?.windowMs ?? 0)
  }

  /** The actor's counts after this access; the object is reused by the next call. */
  add(actor: string, individual: string | undefined, time: number): Counts {
    const actors = this.actors
    let w = actors.get(actor)
    if (w === undefined) {
      const { breadth, rate } = this.settings
      w = {
        distinct: breadth ? new DistinctWindow(breadth.windowMs, breadth.threshold + 1) : undefined,
        records: rate ? new CountWindow(rate.windowMs, rate.threshold + 1) : undefined,
        last: time,
      }
      actors.set(actor, w)
    }
    w.last = time
    if (++this.adds % SWEEP_EVERY === 0) this.sweep(time)
    const d = w.distinct
    const counts = this.counts
    counts.individuals =
      d === undefined ? 0 : individual === undefined ? d.count(time) : d.add(individual, time)
    counts.records = w.records === undefined ? 0 : w.records.add(time)
    return counts
  }

  /** Forgets actors with nothing left in any window. */
  private sweep(now: number): void {
    const cutoff = now - this.longestMs
    for (const [actor, w] of this.actors.entries()) if (w.last <= cutoff) this.actors.delete(actor)
  }
}
