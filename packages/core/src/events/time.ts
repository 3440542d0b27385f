/**
 * The time of an event, as `@timestamp` carries it: ISO 8601, UTC, milliseconds (Date#toISOString).
 *
 * Formatting a Date costs about a microsecond, more than most of an event's other fields, and a
 * service writes many events per second: events in one millisecond share the text, and events in
 * one second share everything up to the milliseconds, which come from a table. What was last
 * formatted is the clock's own state: one clock per logger (events/record.ts BuildEnv).
 */

/** `000Z` … `999Z`: the end of an ISO time for each millisecond of a second. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`)

export interface IsoClock {
  /** ISO 8601 time of now. */
  now(): string
  /** Exactly `new Date(ms).toISOString()` for a time in milliseconds since the epoch. */
  of(ms: number): string
}

export function createIsoClock(): IsoClock {
  // Nothing remembered yet: NaN never equals a time, so the first call formats whole.
  let lastMs = Number.NaN
  let lastIso = ''
  let lastSecond = Number.NaN
  let secondPrefix = ''

  const of = (ms: number): string => {
    if (ms === lastMs) return lastIso
    const second = Math.floor(ms / 1000)
    if (second !== lastSecond || !Number.isInteger(ms)) {
      const iso = new Date(ms).toISOString()
      // `YYYY-MM-DDTHH:MM:SS.` is 20 characters for years 0000-9999; other years (and fractional
      // milliseconds) are formatted whole every time.
      if (iso.length !== 24 || !Number.isInteger(ms)) return iso
      lastSecond = second
      secondPrefix = iso.slice(0, 20)
    }
    lastMs = ms
    lastIso = secondPrefix + MILLIS[ms - second * 1000]!
    return lastIso
  }
  return { of, now: () => of(Date.now()) }
}
