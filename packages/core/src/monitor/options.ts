// Checks the `monitor` option once, at createAuditLogger() (or at the start of a replay), with
// messages that say what to change, and compiles it into what the per-access code reads.
import type { Policy } from '../redact/index'
import { pseudonymize } from '../redact/index'
import {
  type CompiledSchedule,
  compileSchedule,
  type EmergencyRule,
  type HoursRule,
  normalizePurpose,
  type WatchedSet,
  zonedClock,
} from './rules'
import type { CountSettings } from './store-memory'
import type { CustomRule, MonitorAlert, Schedule } from './types'
import { individualKey, isPseudonym, pseudonymKid } from './view'

export const BUILTIN_RULES = ['breadth', 'rate', 'watched', 'emergency', 'hours'] as const

/** Defaults a privacy officer can start from (and test on last month's trail with the replay). */
export const MONITOR_DEFAULTS = {
  breadth: { threshold: 100, windowSeconds: 3600 },
  rate: { threshold: 600, windowSeconds: 600 },
  emergencyPurposes: ['break-the-glass', 'emergency', 'emergency-access', 'btg'],
  /** One alert per rule, actor (and individual) within this time for the rules without a window. */
  repeatSeconds: 900,
  operatorBlockSeconds: 3600,
  /**
   * Paths a scram never refuses: health, liveness and readiness probes and metrics, so that the
   * orchestrator does not restart a scrammed replica (a fresh process would not be scrammed
   * without Redis) and monitoring keeps working. Replaced by `enforcement.openRoutes`.
   */
  openRoutes: [
    '/health',
    '/health/*',
    '/healthz',
    '/healthcheck',
    '/livez',
    '/live',
    '/readyz',
    '/ready',
    '/ping',
    '/metrics',
    '/favicon.ico',
    '/.well-known/*',
  ],
} as const

export interface MonitorConfig {
  enabled: boolean
  resourceTypes: Set<string>
  counts: CountSettings
  watched: WatchedSet | undefined
  emergency: EmergencyRule | undefined
  hours: HoursRule | undefined
  custom: readonly CustomRule[]
  repeatMs: number
  onAlert: ((alert: MonitorAlert) => void) | undefined
  block: Set<string>
  scram: Set<string>
  blockSeconds: number | undefined
  signal: NodeJS.Signals | undefined
  phiRoutes: ((path: string) => boolean) | undefined
  openRoutes: (path: string) => boolean
  redis: RedisConfig | undefined
}

export interface RedisConfig {
  url: string | undefined
  client: unknown
  keyPrefix: string
  timeoutMs: number
  batchMs: number
  failClosed: boolean
}

const TOP = [
  'enabled',
  'resourceTypes',
  'breadth',
  'rate',
  'watched',
  'emergency',
  'hours',
  'rules',
  'repeatSeconds',
  'onAlert',
  'enforcement',
  'redis',
]

function fail(message: string): never {
  throw new TypeError(`boundary-audit: monitor.${message}`)
}

function shown(v: unknown): string {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'function' ? 'a function' : String(v)
  } catch {
    return typeof v
  }
}

function object(v: unknown, name: string, example: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    fail(`${name} must be an object like ${example}; got ${shown(v)}`)
  return v as Record<string, unknown>
}

function known(o: Record<string, unknown>, keys: readonly string[], name: string): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) fail(`${name} has an unknown option "${k}" (known: ${keys.join(', ')})`)
  }
}

function positive(v: unknown, name: string, fallback: number, integer = true): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    fail(`${name} must be a positive ${integer ? 'integer' : 'number'}; got ${shown(v)}`)
  }
  return v
}

function strings(v: unknown, name: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0)) {
    fail(`${name} must be a list of non-empty strings; got ${shown(v)}`)
  }
  return v as string[]
}

export interface CompileEnv {
  /** Pseudonymises `watched.ids`; without a key these cannot be used. */
  policy?: Policy
  /** Names the Redis key prefix. */
  serviceName?: string
  env?: NodeJS.ProcessEnv
}

/** Validates and compiles. `options` may be undefined (monitor off unless BOUNDARY_AUDIT_MONITOR says on). */
export function compileMonitorOptions(options: unknown, ctx: CompileEnv = {}): MonitorConfig {
  const env = ctx.env ?? process.env
  if (options === true) options = {}
  if (options === false) options = { enabled: false }
  const o =
    options === undefined || options === null
      ? undefined
      : object(options, '(the monitor option)', '{ breadth: { threshold: 100 } }')
  if (o) known(o, TOP, '(the monitor option)')
  let enabled: boolean
  if (o?.enabled !== undefined) {
    if (typeof o.enabled !== 'boolean') fail(`enabled must be true or false; got ${shown(o.enabled)}`)
    enabled = o.enabled
  } else if (o) {
    enabled = true
  } else {
    const v = (env.BOUNDARY_AUDIT_MONITOR ?? '').trim().toLowerCase()
    if (v !== '' && !['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'].includes(v)) {
      throw new TypeError(
        `boundary-audit: environment variable BOUNDARY_AUDIT_MONITOR must be on or off; got ${shown(v)}`,
      )
    }
    enabled = ['1', 'true', 'on', 'yes'].includes(v)
  }
  const m = o ?? {}

  const resourceTypes = new Set(
    m.resourceTypes === undefined ? ['patient'] : strings(m.resourceTypes, 'resourceTypes'),
  )

  const counts: CountSettings = {}
  for (const rule of ['breadth', 'rate'] as const) {
    const v = m[rule]
    if (v === false) continue
    const r = v === undefined ? {} : object(v, rule, '{ threshold: 100, windowSeconds: 3600 }')
    known(r, ['threshold', 'windowSeconds'], rule)
    counts[rule] = {
      threshold: positive(r.threshold, `${rule}.threshold`, MONITOR_DEFAULTS[rule].threshold),
      windowMs:
        positive(r.windowSeconds, `${rule}.windowSeconds`, MONITOR_DEFAULTS[rule].windowSeconds, false) *
        1000,
    }
  }

  const keyed = ctx.policy?.hasPseudonymKey === true
  let watched: WatchedSet | undefined
  if (m.watched !== undefined) {
    const w = object(m.watched, 'watched', "{ pseudonyms: ['ps_...'] } or { ids: ['MRN-1'] }")
    known(w, ['pseudonyms', 'ids', 'exemptRoles'], 'watched')
    const byKey = new Map<string, string | undefined>()
    for (const p of w.pseudonyms === undefined ? [] : strings(w.pseudonyms, 'watched.pseudonyms')) {
      if (!isPseudonym(p))
        fail(
          `watched.pseudonyms holds ${shown(p)}, which is not a pseudonym (ps_<24 hex> or ps_<6 hex>_<24 hex>); put clear identifiers in watched.ids`,
        )
      byKey.set(individualKey(p), pseudonymKid(p))
    }
    if (w.ids !== undefined) {
      if (
        !Array.isArray(w.ids) ||
        !w.ids.every((x) => (typeof x === 'string' && x.length > 0) || typeof x === 'number')
      ) {
        fail('watched.ids must be a list of identifiers (strings or numbers)')
      }
      if (!keyed || !ctx.policy) {
        fail(
          'watched.ids needs a pseudonym key to turn the identifiers into the pseudonyms the trail holds: set redaction.pseudonymKey or BOUNDARY_AUDIT_PSEUDONYM_KEY, or give watched.pseudonyms',
        )
      }
      // The clear ids are pseudonymised here and not kept: the monitor never holds a clear identifier.
      for (const id of w.ids as (string | number)[]) {
        const p = pseudonymize(String(id), ctx.policy, 'resource')
        byKey.set(individualKey(p), pseudonymKid(p))
      }
    }
    const exemptRoles = new Set(
      w.exemptRoles === undefined ? [] : strings(w.exemptRoles, 'watched.exemptRoles'),
    )
    if (byKey.size > 0) watched = { byKey, exemptRoles }
  }

  let emergency: EmergencyRule | undefined
  if (m.emergency !== false) {
    const e =
      m.emergency === undefined ? {} : object(m.emergency, 'emergency', "{ purposes: ['break-the-glass'] }")
    known(e, ['purposes'], 'emergency')
    const purposes =
      e.purposes === undefined
        ? MONITOR_DEFAULTS.emergencyPurposes
        : strings(e.purposes, 'emergency.purposes')
    emergency = { purposes: new Set(purposes.map(normalizePurpose)), seen: new Map() }
  }

  let hours: HoursRule | undefined
  if (m.hours !== undefined) {
    const h = object(m.hours, 'hours', "{ schedules: { nurse: { from: '07:00', to: '19:00' } } }")
    known(h, ['schedules', 'timeZone'], 'hours')
    const schedules = object(h.schedules, 'hours.schedules', "{ nurse: { from: '07:00', to: '19:00' } }")
    const byRole = new Map<string, CompiledSchedule[]>()
    for (const [role, value] of Object.entries(schedules)) {
      const list = (Array.isArray(value) ? value : [value]) as Schedule[]
      if (list.length === 0) fail(`hours.schedules.${role} must hold at least one schedule`)
      byRole.set(
        role,
        list.map((s, i) => {
          const c = compileSchedule(s, `hours.schedules.${role}${Array.isArray(value) ? `[${i}]` : ''}`)
          if (typeof c === 'string') fail(c)
          return c
        }),
      )
    }
    let timeZone: string | undefined
    if (h.timeZone !== undefined) {
      if (typeof h.timeZone !== 'string')
        fail(`hours.timeZone must be an IANA zone name such as 'America/Chicago'; got ${shown(h.timeZone)}`)
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: h.timeZone })
      } catch {
        fail(
          `hours.timeZone ${shown(h.timeZone)} is not a time zone this Node.js knows (use an IANA name such as 'America/Chicago')`,
        )
      }
      timeZone = h.timeZone
    }
    if (byRole.size > 0) hours = { byRole, localTime: zonedClock(timeZone) }
  }

  const custom: CustomRule[] = []
  if (m.rules !== undefined) {
    if (!Array.isArray(m.rules)) fail('rules must be a list of { name, check(access) } objects')
    const names = new Set<string>(BUILTIN_RULES)
    for (const [i, r] of (m.rules as unknown[]).entries()) {
      const rule = object(r, `rules[${i}]`, "{ name: 'my-rule', check(access) { ... } }")
      if (typeof rule.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(rule.name)) {
        fail(
          `rules[${i}].name must be lowercase letters, digits and '-' (e.g. 'same-surname'); got ${shown(rule.name)}`,
        )
      }
      if (names.has(rule.name))
        fail(
          `rules[${i}].name ${shown(rule.name)} is already taken by ${BUILTIN_RULES.includes(rule.name as never) ? 'a built-in rule' : 'another rule'}`,
        )
      if (typeof rule.check !== 'function')
        fail(`rules[${i}].check must be a function (access) => finding | undefined`)
      names.add(rule.name)
      custom.push(rule as unknown as CustomRule)
    }
  }
  const ruleNames = new Set<string>([...BUILTIN_RULES, ...custom.map((r) => r.name)])

  const repeatMs = positive(m.repeatSeconds, 'repeatSeconds', MONITOR_DEFAULTS.repeatSeconds, false) * 1000
  if (m.onAlert !== undefined && typeof m.onAlert !== 'function')
    fail(`onAlert must be a function (alert) => void; got ${shown(m.onAlert)}`)

  const en = m.enforcement === undefined ? {} : object(m.enforcement, 'enforcement', "{ block: ['breadth'] }")
  known(en, ['block', 'scram', 'blockSeconds', 'signal', 'phiRoutes', 'openRoutes'], 'enforcement')
  const ruleList = (v: unknown, name: string): Set<string> => {
    if (v === undefined || v === false) return new Set()
    if (v === true) return new Set(['breadth', 'rate'])
    const list = strings(v, name)
    for (const r of list)
      if (!ruleNames.has(r))
        fail(`${name} names an unknown rule ${shown(r)} (rules: ${[...ruleNames].join(', ')})`)
    return new Set(list)
  }
  const block = ruleList(en.block, 'enforcement.block')
  if (en.scram === true) fail("enforcement.scram must list the rules that scram, e.g. ['breadth']")
  const scram = ruleList(en.scram, 'enforcement.scram')
  const blockSeconds =
    en.blockSeconds === undefined
      ? undefined
      : positive(en.blockSeconds, 'enforcement.blockSeconds', 1, false)
  let signal: NodeJS.Signals | undefined
  if (en.signal !== undefined && en.signal !== false) {
    if (
      typeof en.signal !== 'string' ||
      !/^SIG[A-Z0-9]+$/.test(en.signal) ||
      ['SIGKILL', 'SIGSTOP'].includes(en.signal)
    ) {
      fail(
        `enforcement.signal must be a signal name such as 'SIGUSR2' (not SIGKILL or SIGSTOP); got ${shown(en.signal)}`,
      )
    }
    signal = en.signal as NodeJS.Signals
  }
  const phiRoutes = en.phiRoutes === undefined ? undefined : compileRoutes(en.phiRoutes, 'phiRoutes')
  const openRoutes = compileRoutes(en.openRoutes ?? MONITOR_DEFAULTS.openRoutes, 'openRoutes')

  for (const rule of ['breadth', 'watched'] as const) {
    const on = rule === 'breadth' ? counts.breadth !== undefined : watched !== undefined
    if (enabled && on && ctx.policy && !keyed) {
      fail(
        `${rule} needs a pseudonym key: without one every patient id is masked alike and the monitor cannot tell individuals apart. Set redaction.pseudonymKey or BOUNDARY_AUDIT_PSEUDONYM_KEY (at least 16 bytes; \`boundary-audit keygen\` writes one), or turn the rule off with monitor.${rule}: false`,
      )
    }
  }

  let redis: RedisConfig | undefined
  const r = m.redis === undefined ? {} : object(m.redis, 'redis', "{ url: 'redis://127.0.0.1:6379' }")
  known(r, ['url', 'client', 'keyPrefix', 'timeoutMs', 'batchMs', 'failClosed'], 'redis')
  const url = r.url ?? (env.BOUNDARY_AUDIT_REDIS_URL?.trim() || undefined)
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    fail(
      `redis.url must be a redis:// or rediss:// URL${r.url === undefined ? ' (from BOUNDARY_AUDIT_REDIS_URL)' : ''}; got a ${typeof url}`,
    )
  }
  if (
    r.client !== undefined &&
    (r.client === null || typeof (r.client as { evalsha?: unknown }).evalsha !== 'function')
  ) {
    fail('redis.client must be an ioredis client (new Redis(...))')
  }
  if (r.keyPrefix !== undefined && (typeof r.keyPrefix !== 'string' || r.keyPrefix.length === 0))
    fail('redis.keyPrefix must be a non-empty string')
  if (r.failClosed !== undefined && typeof r.failClosed !== 'boolean')
    fail('redis.failClosed must be true or false')
  if (url !== undefined || r.client !== undefined) {
    redis = {
      url: url as string | undefined,
      client: r.client,
      keyPrefix:
        (r.keyPrefix as string | undefined) ?? `boundary-audit:monitor:${ctx.serviceName ?? 'service'}:`,
      timeoutMs: positive(r.timeoutMs, 'redis.timeoutMs', 1000),
      batchMs: batchMs(r.batchMs),
      failClosed: (r.failClosed as boolean | undefined) ?? false,
    }
  }

  return {
    enabled,
    resourceTypes,
    counts,
    watched,
    emergency,
    hours,
    custom,
    repeatMs,
    onAlert: m.onAlert as MonitorConfig['onAlert'],
    block,
    scram,
    blockSeconds,
    signal,
    phiRoutes,
    openRoutes,
    redis,
  }
}

/** Milliseconds accesses gather before one script call; 0 to 1000, default 2. */
function batchMs(v: unknown): number {
  if (v === undefined) return 2
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1000)
    fail(`redis.batchMs must be a number of milliseconds from 0 to 1000; got ${shown(v)}`)
  return v
}

function compileRoutes(v: unknown, name: string): (path: string) => boolean {
  if (!Array.isArray(v) || (v.length === 0 && name === 'phiRoutes'))
    fail(
      `enforcement.${name} must be a${name === 'phiRoutes' ? ' non-empty' : ''} list of paths ('/patients/*') or regular expressions`,
    )
  const exact = new Set<string>()
  const prefixes: string[] = []
  const patterns: RegExp[] = []
  for (const r of v as unknown[]) {
    if (r instanceof RegExp) patterns.push(new RegExp(r.source, r.flags.replace(/[gy]/g, '')))
    else if (typeof r === 'string' && r.startsWith('/')) {
      if (r.endsWith('*')) prefixes.push(r.slice(0, -1))
      else exact.add(r)
    } else
      fail(
        `enforcement.${name} holds ${shown(r)}; use paths starting with '/' (a trailing * for a prefix) or regular expressions`,
      )
  }
  return (path) =>
    exact.has(path) || prefixes.some((p) => path.startsWith(p)) || patterns.some((p) => p.test(path))
}
