// The rule code shared by the live monitor and the replay: the same facts in give the same alerts out.
import { RecentMap } from '../recent-map'
import type { MonitorConfig } from './options'
import { checkEmergency, checkHours, checkWatched } from './rules'
import type { Counts } from './store-memory'
import type { AccessView, RuleFinding } from './types'
import { isPseudonym, pseudonymDigits } from './view'

/** A finding of one rule about one access. */
export interface Finding extends RuleFinding {
  rule: string
  actor: string
  time: number
}

/** Alert times remembered per rule at most; past it the oldest is forgotten (it may alert again). */
const MAX_REMEMBERED_ALERTS = 100_000

export class RuleEngine {
  /**
   * Time of the last alert per rule, then per actor (or actor + individual for a rule about one
   * individual): one alert per window, not one per access. Keyed by rule first so that the counting
   * rules, asked on every access once an actor is over the threshold, look up the actor's id as it
   * is, without building a key.
   */
  private readonly lastAlert = new Map<string, RecentMap<string, number>>()
  ruleErrors = 0
  /**
   * Set by the live monitor while a shared store answers: takes a direct rule's finding to decide
   * for every replica whether it is the first within repeatMs (true: the finding is its business
   * now), instead of this process alone. Unset, or false: this process decides.
   */
  shareOnce?: (f: Finding, key: string, quietMs: number) => boolean

  constructor(readonly config: MonitorConfig) {}

  /** True when the access reaches an individual's record of a monitored type. */
  reachesIndividual(a: AccessView): boolean {
    return a.resourceType !== undefined && this.config.resourceTypes.has(a.resourceType)
  }

  /** Whether the counting rules (breadth, rate) need this access counted. */
  counted(a: AccessView): boolean {
    const c = this.config.counts
    return (c.breadth !== undefined || c.rate !== undefined) && this.reachesIndividual(a)
  }

  /** The key the counting store files the individual under (the pseudonym's digits), if any. */
  countedIndividual(a: AccessView): string | undefined {
    return a.individual === undefined ? undefined : pseudonymDigits(a.individual)
  }

  /** Rules that need no counts: watched, emergency, hours, custom. */
  direct(a: AccessView): Finding[] | undefined {
    const c = this.config
    let out: Finding[] | undefined
    if (c.emergency) out = this.found(out, a, 'emergency', checkEmergency(c.emergency, a), undefined)
    if (this.reachesIndividual(a)) {
      if (c.watched) out = this.found(out, a, 'watched', checkWatched(c.watched, a), a.individual ?? '')
      if (c.hours) out = this.found(out, a, 'hours', checkHours(c.hours, a), undefined)
    }
    for (const rule of c.custom) {
      let f: RuleFinding | undefined | null | false
      try {
        f = rule.check(a)
      } catch {
        this.ruleErrors++
        continue
      }
      if (f && typeof f === 'object') {
        const clean = cleanFinding(f)
        out = this.found(out, a, rule.name, clean, typeof f.individual === 'string' ? f.individual : '')
      }
    }
    return out
  }

  /** Adds a direct rule's finding to `out` unless the rule alerted on the same facts within repeatMs. */
  private found(
    out: Finding[] | undefined,
    a: AccessView,
    rule: string,
    f: RuleFinding | undefined | null | false,
    individual: string | undefined,
  ): Finding[] | undefined {
    if (!f) return out
    // Built only on a finding, which is rare: the per-individual key of watched and custom rules.
    const key = individual === undefined ? a.actor : `${a.actor}\u0000${individual}`
    const finding: Finding = { ...f, rule, actor: a.actor, time: a.time }
    if (this.shareOnce?.(finding, key, this.config.repeatMs)) return out
    if (!this.admit(rule, key, a.time, this.config.repeatMs)) return out
    return push(out, finding)
  }

  /** This process's once-per-quiet-time check, for a finding the shared store could not decide. */
  admitHere(f: Finding, key: string, quietMs: number): boolean {
    return this.admit(f.rule, key, f.time, quietMs)
  }

  /** The counting rules, given the actor's counts after this access. */
  fromCounts(a: AccessView, counts: Counts): Finding[] | undefined {
    const { breadth, rate } = this.config.counts
    let out: Finding[] | undefined
    if (
      breadth &&
      counts.individuals > breadth.threshold &&
      this.admitCount('breadth', 1, a, counts, breadth)
    )
      out = push(
        out,
        windowFinding(a, 'breadth', counts.individuals, breadth, 'reached more than', 'individuals'),
      )
    if (rate && counts.records > rate.threshold && this.admitCount('rate', 2, a, counts, rate))
      out = push(out, windowFinding(a, 'rate', counts.records, rate, 'wrote more than', 'access records'))
    return out
  }

  /** A shared store decides for every replica (`fresh`); else one alert per window in this process. */
  private admitCount(
    rule: string,
    bit: number,
    a: AccessView,
    counts: Counts,
    settings: { windowMs: number },
  ): boolean {
    if (counts.fresh !== undefined) return (counts.fresh & bit) !== 0
    return this.admit(rule, a.actor, a.time, settings.windowMs)
  }

  private admit(rule: string, key: string, time: number, quietMs: number): boolean {
    let last = this.lastAlert.get(rule)
    if (last === undefined) {
      // Bounded by the oldest alert in O(1) (recent-map.ts: a trimmed Map is not).
      last = new RecentMap(MAX_REMEMBERED_ALERTS)
      this.lastAlert.set(rule, last)
    }
    const at = last.get(key)
    if (at !== undefined) {
      if (time - at < quietMs) return false
      // Deleted and set again below, so the order stays oldest alert first for the eviction.
      last.delete(key)
    }
    last.set(key, time)
    return true
  }
}

function windowFinding(
  a: AccessView,
  rule: string,
  count: number,
  settings: { threshold: number; windowMs: number },
  verb: string,
  what: string,
): Finding {
  const seconds = settings.windowMs / 1000
  return {
    rule,
    actor: a.actor,
    time: a.time,
    message: `${verb} ${settings.threshold} ${what} within ${seconds} s`,
    count,
    threshold: settings.threshold,
    windowSeconds: seconds,
  }
}

function push(list: Finding[] | undefined, f: Finding): Finding[] {
  if (list === undefined) return [f]
  list.push(f)
  return list
}

/** A custom rule's finding with only the fields an alert carries, of the right types. */
function cleanFinding(f: RuleFinding): RuleFinding {
  const out: RuleFinding = {
    message: typeof f.message === 'string' ? f.message.slice(0, 256) : 'custom rule matched',
  }
  if (typeof f.count === 'number' && Number.isFinite(f.count)) out.count = f.count
  if (typeof f.threshold === 'number' && Number.isFinite(f.threshold)) out.threshold = f.threshold
  if (typeof f.windowSeconds === 'number' && Number.isFinite(f.windowSeconds))
    out.windowSeconds = f.windowSeconds
  if (typeof f.individual === 'string' && isPseudonym(f.individual)) out.individual = f.individual
  return out
}
