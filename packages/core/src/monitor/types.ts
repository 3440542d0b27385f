// Public types of the privacy monitor (re-exported from the package root).

/**
 * One access as the rules see it: taken from a record after redaction, so the individual is a
 * pseudonym (`ps_...`) and never a clear identifier.
 */
export interface AccessView {
  /** Milliseconds since the epoch, from the record's `@timestamp`. */
  time: number
  /** `user.id` of the record. */
  actor: string
  /** `user.roles` of the record (empty when none). */
  roles: readonly string[]
  /** `event.action`, e.g. `patient-record-read`. */
  action: string
  /** `audit.resource.type`, e.g. `patient`. */
  resourceType: string | undefined
  /** `audit.resource.id`: the individual's pseudonym, when the record names one. */
  individual: string | undefined
  /** `audit.purpose`, e.g. `treatment` or `break-the-glass`. */
  purpose: string | undefined
  /** `event.reason`: why the actor says the access happened. */
  reason: string | undefined
  outcome: string | undefined
}

/** What a rule reports; the monitor turns it into an alert record. */
export interface RuleFinding {
  /** Short human sentence, e.g. "reached 51 individuals within 3600 s". No clear identifiers. */
  message: string
  /** How many (individuals, records) the rule counted. */
  count?: number
  /** The threshold the count went over. */
  threshold?: number
  /** The window the count covers, in seconds. */
  windowSeconds?: number
  /** The individual concerned (a pseudonym), e.g. for a watched individual. */
  individual?: string
}

/** A custom rule: a plain function over each access, pure or keeping its own state. */
export interface CustomRule {
  /** Lowercase letters, digits and `-`; names the rule in alerts and in `enforcement.block`. */
  name: string
  /** Returns a finding to alert, or undefined. Must not throw (a throw is counted and ignored). */
  check(access: AccessView): RuleFinding | undefined | null | false
}

/** An alert as `onAlert` receives it (the same facts as the sealed alert record). */
export interface MonitorAlert {
  rule: string
  actor: string
  message: string
  time: string
  count?: number
  threshold?: number
  windowSeconds?: number
  individual?: string
  /** What enforcement the alert started, if any. */
  enforcement?: readonly ('block' | 'scram')[]
}

export interface WindowRuleOptions {
  /** The alert fires when the count goes over this number. */
  threshold?: number
  /** Length of the sliding window. */
  windowSeconds?: number
}

/** Times a role may access records, in a time zone. Days: 0 = Sunday ... 6 = Saturday. */
export interface Schedule {
  days?: readonly number[]
  /** `HH:MM`, inclusive. */
  from: string
  /** `HH:MM`, exclusive; earlier than `from` for a shift over midnight. */
  to: string
}

export interface MonitorOptions {
  /** Default true when a `monitor` object is given; `BOUNDARY_AUDIT_MONITOR` otherwise. */
  enabled?: boolean
  /** Resource types that name individuals. Default `['patient']`. */
  resourceTypes?: readonly string[]
  /** One actor reaching more than `threshold` distinct individuals within the window. Default 100 in 3600 s. */
  breadth?: WindowRuleOptions | false
  /** One actor writing more than `threshold` access records within the window. Default 600 in 600 s. */
  rate?: WindowRuleOptions | false
  /** Individuals whose every access alerts (VIPs, employees who are patients). Off by default. */
  watched?: {
    /** Pseudonyms as they appear in the trail (`ps_...`). */
    pseudonyms?: readonly string[]
    /** Clear identifiers, pseudonymised at start with the logger's key and then forgotten. */
    ids?: readonly (string | number)[]
    /** Roles whose access to watched individuals does not alert (e.g. the privacy office). */
    exemptRoles?: readonly string[]
  }
  /** Break-the-glass access without a reason. On by default. */
  emergency?:
    | {
        /** `audit.purpose` values that mean emergency access (case-insensitive). */
        purposes?: readonly string[]
      }
    | false
  /** Access outside a role's schedule. Off until schedules are given. */
  hours?: {
    /** Schedule(s) per role. A role not listed is not checked. */
    schedules: Readonly<Record<string, Schedule | readonly Schedule[]>>
    /** IANA time zone of the schedules. Default the process's. */
    timeZone?: string
  }
  /**
   * The rules without a window (watched, emergency, hours, custom) alert once per actor (and
   * individual) within this many seconds (across the replicas, with `redis`). Default 900.
   */
  repeatSeconds?: number
  /** Custom rules, evaluated on every access after the built-in ones. */
  rules?: readonly CustomRule[]
  /** Called with every alert (after it is written). A throwing hook is ignored. */
  onAlert?: (alert: MonitorAlert) => void
  enforcement?: EnforcementOptions
  /** Share counts between replicas through Redis (needs the optional `ioredis` package). */
  redis?: RedisOptions
}

export interface EnforcementOptions {
  /** Rules whose alerts block the actor (403). `true`: breadth and rate. Default none. */
  block?: boolean | readonly string[]
  /** Rules whose alerts scram the service (503 on PHI routes). Default none. */
  scram?: readonly string[]
  /** How long a block lasts unless lifted. Default: the rule's window, 3600 s for an operator's block. */
  blockSeconds?: number
  /** A signal that scrams the service (e.g. `'SIGUSR2'`, for a Falco response). Off by default. */
  signal?: NodeJS.Signals | false
  /**
   * Routes refused during a scram: path prefixes ending in `*`, exact paths, or regular expressions.
   * Default: every route but the open ones (an unknown route is taken to reach PHI). Nest handlers
   * marked `@Audit` are refused during a scram whatever this says.
   */
  phiRoutes?: readonly (string | RegExp)[]
  /**
   * Routes a scram never refuses (same forms). Default `MONITOR_DEFAULTS.openRoutes`: `/health`,
   * `/health/*`, `/healthz`, `/healthcheck`, `/livez`, `/live`, `/readyz`, `/ready`, `/ping`,
   * `/metrics`, `/favicon.ico`, `/.well-known/*`. Giving it replaces the defaults.
   */
  openRoutes?: readonly (string | RegExp)[]
}

export interface RedisOptions {
  /** `redis://host:port/db`. Default `BOUNDARY_AUDIT_REDIS_URL`. */
  url?: string
  /** An ioredis client of your own instead of a URL (the monitor does not close it). */
  client?: unknown
  /** Prefix of every key. Default `boundary-audit:monitor:` + service name + `:`. */
  keyPrefix?: string
  /** Milliseconds a reply may take before the monitor counts in-process instead. Default 1000. */
  timeoutMs?: number
  /**
   * Milliseconds the accesses gather before one script call counts them all (0 to 1000), and
   * longer while the previous call is unanswered (one call is out at a time). Longer batches cost
   * the service and Redis less per access under load; an alert or a block comes this much later.
   * Default 2.
   */
  batchMs?: number
  /** Refuse PHI routes (503) while Redis is unreachable instead of counting per process. Default false. */
  failClosed?: boolean
}

/** Operator controls: `audit.monitor`. Every change is written as an audit event. */
export interface AuditMonitor {
  /** Refuses the actor's requests (403) until unblocked or `seconds` pass. */
  block(actorId: string, options?: { seconds?: number; reason?: string }): void
  unblock(actorId: string, options?: { reason?: string }): void
  /** Refuses PHI routes (503) until unscram(). */
  scram(options?: { reason?: string }): void
  unscram(options?: { reason?: string }): void
  isBlocked(actorId: string): boolean
  readonly scrammed: boolean
  /** Currently blocked actors and when each block ends (ms since the epoch; Infinity: until lifted). */
  blocked(): { actor: string; until: number }[]
  /**
   * For the HTTP adapters: 403 (blocked actor), 503 (scram, or fail-closed store down), or 0.
   * `reachesPhi`: the adapter knows the handler accesses individuals' records (Nest `@Audit`).
   */
  verdict(actorId: string | undefined, path: string, reachesPhi?: boolean): 0 | 403 | 503
  /** True when verdict() may refuse anything (a block, a scram, a fail-closed outage). */
  readonly active: boolean
  /** Counters: accesses seen, alerts, rule errors, and where counts are kept now. */
  stats(): MonitorStats
}

export interface MonitorStats {
  enabled: boolean
  accesses: number
  alerts: number
  ruleErrors: number
  store: 'memory' | 'redis' | 'memory-fallback'
}
