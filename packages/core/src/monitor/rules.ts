// The built-in rules that need no counts: watched individuals, emergency access without a reason,
// hours outside a role's schedule. Each is a plain check over one access.
import type { AccessView, RuleFinding, Schedule } from './types'
import { individualKey, pseudonymKid } from './view'

/** Watched individuals by the 24 hex digits of their pseudonym, with the key id when known. */
export interface WatchedSet {
  byKey: Map<string, string | undefined>
  exemptRoles: Set<string>
}

export function checkWatched(w: WatchedSet, a: AccessView): RuleFinding | undefined {
  const id = a.individual
  if (id === undefined) return undefined
  const key = individualKey(id)
  if (!w.byKey.has(key)) return undefined
  // Pseudonyms made with another key that happen to share the digits are not the same individual.
  const kid = w.byKey.get(key)
  const seen = pseudonymKid(id)
  if (kid !== undefined && seen !== undefined && kid !== seen) return undefined
  for (const role of a.roles) if (w.exemptRoles.has(role)) return undefined
  return { message: `accessed a watched individual (${a.action})`, individual: id, count: 1 }
}

/** `Break_The Glass` and `break-the-glass` are one purpose. */
export function normalizePurpose(p: string): string {
  return p
    .trim()
    .toLowerCase()
    .replace(/[\s_.]+/g, '-')
}

/** Emergency purposes (normalised), and what each purpose text seen so far normalised to. */
export interface EmergencyRule {
  purposes: Set<string>
  /** Purpose text as written -> its normalised form if an emergency purpose, else ''. Bounded. */
  seen: Map<string, string>
}

/** Distinct purpose texts remembered: a service uses a handful; past this the memory starts over. */
const MAX_PURPOSES = 256

export function checkEmergency(e: EmergencyRule, a: AccessView): RuleFinding | undefined {
  const p = a.purpose
  if (p === undefined) return undefined
  // Normalising takes a regular expression: once per distinct text, not once per access.
  let purpose = e.seen.get(p)
  if (purpose === undefined) {
    const n = normalizePurpose(p)
    purpose = e.purposes.has(n) ? n : ''
    if (e.seen.size >= MAX_PURPOSES) e.seen.clear()
    e.seen.set(p, purpose)
  }
  if (purpose === '') return undefined
  if (a.reason !== undefined && a.reason.trim().length > 0) return undefined
  return {
    message: `emergency access (purpose ${purpose}) without a reason`,
    individual: a.individual,
  }
}

/** A schedule as minutes of the day. */
export interface CompiledSchedule {
  days: Set<number> | undefined
  from: number
  to: number
}

export interface HoursRule {
  byRole: Map<string, CompiledSchedule[]>
  /** Day of week and minute of day of a time, in the schedules' zone. */
  localTime(time: number): { day: number; minute: number }
}

export function checkHours(h: HoursRule, a: AccessView): RuleFinding | undefined {
  let scheduled = false
  let local: { day: number; minute: number } | undefined
  for (const role of a.roles) {
    const schedules = h.byRole.get(role)
    if (schedules === undefined) continue
    scheduled = true
    local ??= h.localTime(a.time)
    for (const s of schedules) if (within(s, local.day, local.minute)) return undefined
  }
  if (!scheduled || local === undefined) return undefined
  const hh = String(Math.floor(local.minute / 60)).padStart(2, '0')
  const mm = String(local.minute % 60).padStart(2, '0')
  return {
    message: `access at ${hh}:${mm} (day ${local.day}) outside the schedule of the actor's roles`,
    individual: a.individual,
  }
}

function within(s: CompiledSchedule, day: number, minute: number): boolean {
  if (s.from <= s.to) return (s.days === undefined || s.days.has(day)) && minute >= s.from && minute < s.to
  // Over midnight: the part after midnight belongs to the shift that started the day before.
  if (minute >= s.from) return s.days === undefined || s.days.has(day)
  if (minute < s.to) return s.days === undefined || s.days.has((day + 6) % 7)
  return false
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/

/** Parses one schedule; returns an error message for the options check, or the compiled form. */
export function compileSchedule(s: Schedule, where: string): CompiledSchedule | string {
  if (s === null || typeof s !== 'object')
    return `${where} must be an object like { from: '07:00', to: '19:00', days: [1,2,3,4,5] }`
  const from = minutesOf(s.from)
  const to = minutesOf(s.to)
  if (from === undefined) return `${where}.from must be a time 'HH:MM' (00:00 to 24:00)`
  if (to === undefined) return `${where}.to must be a time 'HH:MM' (00:00 to 24:00)`
  if (from === to) return `${where}: from and to are equal, which allows no time at all`
  let days: Set<number> | undefined
  if (s.days !== undefined) {
    if (
      !Array.isArray(s.days) ||
      s.days.length === 0 ||
      !s.days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6)
    ) {
      return `${where}.days must be a non-empty list of day numbers 0 (Sunday) to 6 (Saturday)`
    }
    days = new Set(s.days)
  }
  return { days, from, to }
}

function minutesOf(v: unknown): number | undefined {
  if (typeof v !== 'string' || !HHMM.test(v)) return undefined
  return Number(v.slice(0, 2)) * 60 + Number(v.slice(3, 5))
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }

/** Local day and minute in a zone, cached per minute (Intl formatting costs microseconds). */
export function zonedClock(timeZone: string | undefined): (time: number) => { day: number; minute: number } {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
  let cachedMinute = Number.NaN
  let cached = { day: 0, minute: 0 }
  return (time) => {
    const m = Math.floor(time / 60_000)
    if (m === cachedMinute) return cached
    let day = 0
    let hour = 0
    let minute = 0
    for (const part of format.formatToParts(time)) {
      if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? 0
      else if (part.type === 'hour') hour = Number(part.value) % 24
      else if (part.type === 'minute') minute = Number(part.value)
    }
    cachedMinute = m
    cached = { day, minute: hour * 60 + minute }
    return cached
  }
}
