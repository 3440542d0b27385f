// The rule code shared by the live monitor and the replay: the same facts in give the same alerts out.
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

const MAX_REMEMBERED_ALERTS = 100_000

export class RuleEngine {
  /** Time of the last alert per rule + actor (+ individual): one alert per window, not one per access. */
  private readonly lastAlert = new Map<string, number>()
  ruleErrors = 0

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
    const add = (rule: string, f: RuleFinding | undefined | null | false, repeatKey: string) => {
      if (!f) return
      if (!this.admit(rule, a.actor, repeatKey, a.time, c.repeatMs)) return
      out = push(out, { ...f, rule, actor: a.actor, time: a.time })
    }
    if (c.emergency) add('emergency', checkEmergency(c.emergency, a), '')
    if (this.reachesIndividual(a)) {
      if (c.watched) add('watched', checkWatched(c.watched, a), a.individual ?? '')
      if (c.hours) add('hours', checkHours(c.hours, a), '')
    }
    for (const rule of c.custom) {
      let f: RuleFinding | undefined | null | false
      try {
        f = rule.check(a)
      } catch {
        this.ruleErrors++
        continue
      }
      if (f && typeof f === 'object')
        add(rule.name, cleanFinding(f), typeof f.individual === 'string' ? f.individual : '')
    }
    return out
  }

  /** The counting rules, given the actor's counts after this access. */
  fromCounts(a: AccessView, counts: Counts): Finding[] | undefined {
    const { breadth, rate } = this.config.counts
    let out: Finding[] | undefined
    if (
      breadth &&
      counts.individuals > breadth.threshold &&
      this.admit('breadth', a.actor, '', a.time, breadth.windowMs)
    ) {
      out = push(out, {
        rule: 'breadth',
        actor: a.actor,
        time: a.time,
        message: `reached more than ${breadth.threshold} individuals within ${breadth.windowMs / 1000} s`,
        count: counts.individuals,
        threshold: breadth.threshold,
        windowSeconds: breadth.windowMs / 1000,
      })
    }
    if (rate && counts.records > rate.threshold && this.admit('rate', a.actor, '', a.time, rate.windowMs)) {
      out = push(out, {
        rule: 'rate',
        actor: a.actor,
        time: a.time,
        message: `wrote more than ${rate.threshold} access records within ${rate.windowMs / 1000} s`,
        count: counts.records,
        threshold: rate.threshold,
        windowSeconds: rate.windowMs / 1000,
      })
    }
    return out
  }

  private admit(rule: string, actor: string, key: string, time: number, quietMs: number): boolean {
    const k = `${rule}\u0000${actor}\u0000${key}`
    const last = this.lastAlert.get(k)
    if (last !== undefined && time - last < quietMs) return false
    this.lastAlert.delete(k)
    if (this.lastAlert.size >= MAX_REMEMBERED_ALERTS)
      this.lastAlert.delete(this.lastAlert.keys().next().value as string)
    this.lastAlert.set(k, time)
    return true
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
