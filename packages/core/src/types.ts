// Public types of @boundary-audit/core. Internal shapes live next to the code that uses them.
import type { EventEmitter } from 'node:events'
import type { AuditMonitor, MonitorOptions } from './monitor/types'
import type { LogExportCounts, WatchedLogExporter } from './otel/watch-exporter'

export type * from './monitor/types'

/** Who did it. `id` is required; everything else is optional. */
export interface Actor {
  /** Stable subject identifier (IdP `sub`, database user id, service account name). */
  id: string
  /** Display or login name of the workforce member (run through the value detectors). */
  name?: string
  /** Roles or groups (`groups` claim). */
  roles?: readonly string[]
  /** Identity domain: the IdP issuer (`iss`) or directory the id belongs to. */
  domain?: string
  /** Kind of actor. */
  type?: 'user' | 'service' | 'system'
  /** When acting on behalf of someone else (impersonation, delegation): the original actor. */
  effective?: Omit<Actor, 'effective'>
}

export type Outcome = 'success' | 'failure' | 'unknown'
export type Level = 'debug' | 'info' | 'warn' | 'error'

/** What a detector or key rule does with a match. */
export type RedactionMode = 'mask' | 'remove' | 'pseudonymize'

/** A value detector: finds identifiers inside free-text strings. */
export interface Detector {
  /** Short name used in the mask, e.g. `mrn` gives `[REDACTED:mrn]`. Lowercase letters, digits, `_`. */
  name: string
  /** A global (`g`) regular expression; every match is replaced. */
  pattern: RegExp
  /** Optional check on each match (e.g. a checksum); return false to keep the text. */
  validate?: (match: string) => boolean
  /** Optional normaliser applied before pseudonymisation so that formatting variants correlate. */
  normalize?: (match: string) => string
  /** Mode for this detector; defaults to the policy's mode. */
  mode?: RedactionMode
}

export interface RedactionOptions {
  /** Default mode for key and value matches. Default `mask`. */
  mode?: RedactionMode
  /** Extra PHI key names (matched after normalising case and `_ - .` separators). */
  keys?: readonly string[]
  /** Keys whose values are never treated as identifiers by the key layer (value detectors still run). */
  allowKeys?: readonly string[]
  /**
   * Extra value detectors, e.g. the service's MRN format, and the opt-in built-ins by name:
   * `'ip'` (IPv4/IPv6 addresses) and `'zip'` (US zip codes), off by default because server
   * addresses and five-digit numbers in error messages are rarely PHI.
   */
  detectors?: readonly (Detector | 'ip' | 'zip')[]
  /** Names of built-in detectors to turn off (e.g. `['name']`). */
  disableDetectors?: readonly string[]
  /** Mode per category (`ssn`, `email`, ... or a custom detector / key category). */
  modes?: Readonly<Record<string, RedactionMode>>
  /**
   * Secret for pseudonymisation (HMAC-SHA-256): the secret itself, or a path to a file holding it
   * (`boundary-audit keygen --out DIR` writes DIR/pseudonym.key). Default: `BOUNDARY_AUDIT_PSEUDONYM_KEY`
   * (same rules). At least 16 bytes. Writers use this one key; older keys are for readers only
   * (`BOUNDARY_AUDIT_PSEUDONYM_OLD_KEYS`, see docs/deploy.md).
   */
  pseudonymKey?: string | Buffer
}

/** Where lines go. */
export type Destination =
  | 'stdout'
  | 'stderr'
  | number // a file descriptor
  | string // a file path
  | { write(line: string): unknown }

export interface ServiceInfo {
  name?: string
  version?: string
  environment?: string
  /** Instance identity (pod name, hostname). Default: `HOSTNAME` or os.hostname(). */
  instance?: string
}

export interface IntegrityOptions {
  /** Turn the chain on or off. Default on. */
  enabled?: boolean
  /** Verifier public key (X25519, PEM text or a path to a PEM file). Default: `BOUNDARY_AUDIT_VERIFIER_KEY`. */
  verifierKey?: string
  /** Seconds between checkpoint records, even when idle. Default 60. 0 turns checkpoints off. */
  checkpointIntervalSeconds?: number
  /** File that remembers the last stream id of this instance, so a restart can name its predecessor. */
  stateFile?: string
  /**
   * Where records are sealed and written. `worker` (default): on a dedicated worker thread that alone
   * holds the chain key, so hashing and writing leave the event loop (as pino transports do); used
   * when the destination is stdout, stderr, an fd or a file, `sync` is off and OpenTelemetry export
   * is off, else sealing is `inline`. `inline`: on the calling thread. Default:
   * `BOUNDARY_AUDIT_SEAL_THREAD`, else `worker`.
   */
  thread?: 'worker' | 'inline'
  /**
   * Path of the sealing thread's script, `seal-worker.cjs` from `@boundary-audit/core/dist`, for
   * bundled apps (esbuild, webpack), where it is not next to the code that starts it. Default: next
   * to the module; env `BOUNDARY_AUDIT_SEAL_WORKER`. A path that names no file fails at creation.
   */
  sealWorker?: string
}

export interface OtelOptions {
  /** Also emit every event as an OpenTelemetry LogRecord via @opentelemetry/api-logs. */
  enabled?: boolean
  /** Instrumentation scope name. Default `@boundary-audit/core`. */
  loggerName?: string
  /**
   * The app's log exporter as `watchLogExporter(exporter)` returns it (the one its
   * BatchLogRecordProcessor exports with): `stats().otel` then counts records exported and failed,
   * and close() bounds the exports still to come (docs/opentelemetry.md).
   */
  exporter?: WatchedLogExporter
}

export interface AuditLoggerOptions {
  service?: ServiceInfo
  /** Minimum level written. Default `info`. */
  level?: Level
  /** Where the lines go. Default `stdout` (fd 1). `false` turns the line output off (OTel only). */
  destination?: Destination | false
  /** Write synchronously (every event on disk or pipe before the call returns). Default false. */
  sync?: boolean
  /** Most bytes buffered in memory while the destination is slow; beyond it events are dropped, counted, and the count sealed into the chain as a loss record. Default 64 MiB. */
  maxBufferBytes?: number
  /**
   * How long shutdown (close(), SIGTERM/SIGINT, process.exit(), an uncaught exception) may take to
   * write what was accepted, in ms. Near the end, what is still unwritten is dropped and counted,
   * and the count is sealed into the closing record. Default 10000 (Kubernetes allows 30 s);
   * env BOUNDARY_AUDIT_SHUTDOWN_TIMEOUT_MS.
   */
  shutdownTimeoutMs?: number
  redaction?: RedactionOptions
  integrity?: IntegrityOptions
  otel?: OtelOptions
  /** Privacy monitoring of access events: rules, alerts, block and scram. See docs/monitoring.md. */
  monitor?: MonitorOptions | boolean
}

export interface ResourceRef {
  /** Kind of record, e.g. `patient`, `encounter`, `lab-result`. Kept in clear. */
  type: string
  /** Identifier of the record. Always pseudonymised (or masked without a key). */
  id?: string | number
}

interface EventCommon {
  /** Defaults to the actor of the current context. */
  actor?: Actor
  reason?: string
  message?: string
  /** Free-form extra fields; they go under `audit.details` after redaction. */
  details?: Record<string, unknown>
  /** Why the access happened (treatment, payment, operations, ...). */
  purpose?: string
  /** Session identifier (pseudonymised). */
  session?: string
}

export interface LoginInput extends EventCommon {
  outcome: Outcome
  /** Authentication method, e.g. `password`, `oidc`, `webauthn`. */
  method?: string
  /** The identifier typed in on a failed login when no actor exists; always pseudonymised. */
  attemptedIdentifier?: string
}

export interface LogoutInput extends EventCommon {}

export interface AccessInput extends EventCommon {
  /** e.g. `patient-record-read`. */
  action: string
  resource: ResourceRef
  outcome?: Outcome
  /** Defaults from the action's verb: read/view/search/list -> access, create -> creation, ... */
  type?: EventType
  category?: EventCategory | EventCategory[]
  error?: unknown
}

export type EventCategory =
  | 'authentication'
  | 'session'
  | 'web'
  | 'database'
  | 'iam'
  | 'configuration'
  | 'file'
  | 'network'
  | 'process'
  | 'api'

export type EventType =
  | 'access'
  | 'change'
  | 'creation'
  | 'deletion'
  | 'start'
  | 'end'
  | 'error'
  | 'info'
  | 'allowed'
  | 'denied'
  | 'user'
  | 'admin'

export interface EventInput extends EventCommon {
  action: string
  category: EventCategory | EventCategory[]
  type: EventType | EventType[]
  outcome?: Outcome
  resource?: ResourceRef
  error?: unknown
  level?: Level
}

/** Per-request state carried through async calls. */
export interface AuditContext {
  actor?: Actor
  requestId?: string
  /** W3C trace id / span id when no OpenTelemetry span is active (e.g. from `traceparent`). */
  traceId?: string
  spanId?: string
  /** Client address and user agent of the request, used by login/logout/access inside it. */
  clientIp?: string
  userAgent?: string
  session?: string
  purpose?: string
  /**
   * Reads the actor when an event is written, if no actor was set. Adapters use it because auth
   * middleware usually runs after the audit middleware has opened the context.
   */
  resolveActor?: () => Actor | undefined
}

export interface AuditStats {
  /** Events the logger took (every call at or above the level). accepted = written + dropped + in flight. */
  accepted: number
  /** Events written: handed to the operating system (the pipe, file or socket), or to a `{ write }` destination. */
  written: number
  /** Events lost: buffer full, destination broken, shutdown deadline, sealing thread died, or logged after close(). */
  dropped: number
  /**
   * Lines of the app's own logger handed to `audit.destination()` and not written: the buffer was
   * full (`maxBufferBytes`), or they came after the logger had closed and the destination refused them.
   */
  appLinesDropped: number
  /** Internal errors caught (an event still went out, possibly reduced). */
  errors: number
  /** False when the destination cannot currently accept events. */
  healthy: boolean
  /** Where the integrity chain seals records now (`off`: no chain). See IntegrityOptions.thread. */
  sealing: 'worker' | 'inline' | 'off'
  /**
   * `keyed`: resource ids and route parameters are written as keyed pseudonyms (`ps_<kid>_…`), so the
   * trail says which patient a record concerns. `masked`: no pseudonym key is set, they are written as
   * `[REDACTED:resource]` and it cannot.
   */
  pseudonyms: 'keyed' | 'masked'
  /**
   * With `otel.exporter` set: OpenTelemetry log records exported, and records whose export failed or
   * was given up at shutdown (the collector unreachable, say), by the app's exporter. Records the SDK's
   * processor dropped before exporting (its queue full) are not seen here.
   */
  otel?: LogExportCounts
}

/** The normalised shape of an HTTP exchange, filled in by the express and nestjs adapters. */
export interface HttpRequestRecord {
  method: string
  /** Route template such as `/patients/:id`, when known. */
  route?: string
  /** Raw request path (the adapter passes it raw; core redacts it). */
  path: string
  /**
   * Raw values of the matched route's parameters (Express / Nest `req.params`). Path segments equal
   * to one of them are pseudonymised (category `resource`, so `/patients/:id` correlates with the
   * access event's `audit.resource.id`) whether or not a detector recognises them.
   */
  pathParams?: readonly string[]
  /** Query-string keys (values are never passed). */
  queryKeys?: readonly string[]
  statusCode?: number
  durationNs?: number
  requestBytes?: number
  responseBytes?: number
  userAgent?: string
  clientIp?: string
  requestId?: string
  /** Allow-listed headers already filtered by the adapter. */
  headers?: Record<string, string>
  outcome?: Outcome
  reason?: string
  error?: unknown
  actor?: Actor
  /** Overrides `http-request`. */
  action?: string
  /** Framework details such as `{ controller, handler }`. */
  handler?: { controller?: string; name?: string }
  traceId?: string
  spanId?: string
}

/** The normalised shape of one SQL statement, filled in by the pg adapter. */
export interface DbQueryRecord {
  system?: string
  namespace?: string
  serverAddress?: string
  serverPort?: number
  operation?: string
  collection?: string
  summary?: string
  /** Normalised statement text (literals already replaced by placeholders). */
  text?: string
  fingerprint?: string
  preparedName?: string
  rows?: number
  durationNs?: number
  outcome?: Outcome
  /** SQLSTATE. */
  statusCode?: string
  error?: unknown
  level?: Level
  /** Read statements are `access`, writes `change`. */
  type?: 'access' | 'change'
  slow?: boolean
}

/**
 * What `audit.destination()` returns: the methods of pino's SonicBoom that pino and its users call,
 * so that `pino(options, audit.destination())` works.
 */
export interface AuditDestination extends EventEmitter {
  /** Takes text or UTF-8 bytes in any pieces; whole lines are passed on. Always true. */
  write(chunk: string | Uint8Array): boolean
  /** `cb` runs once every whole line written so far is written to the destination. */
  flush(cb?: (err?: Error | null) => void): void
  /** A no-op: the logger's exit hook writes what is queued when the process exits. */
  flushSync(): void
  /** Passes a last unfinished line, if any; later writes are refused. */
  end(): void
  readonly writable: boolean
}

export interface AuditLogger {
  login(input: LoginInput): void
  logout(input?: LogoutInput): void
  access(input: AccessInput): void
  event(input: EventInput): void
  /** Adapter entry point (express, nestjs): one `http-request` event. */
  httpRequest(input: HttpRequestRecord): void
  /** Adapter entry point (pg): one `db-query` event. */
  dbQuery(input: DbQueryRecord): void
  runWithContext<T>(context: AuditContext, fn: () => T): T
  /** Sets the actor of the current context (no-op outside one). */
  setActor(actor: Actor | undefined): void
  /** The current context, if any. */
  getContext(): AuditContext | undefined
  /** Writes whatever is buffered. */
  flush(): Promise<void>
  /** Writes the closing record, flushes, releases the destination. Later events are dropped and counted. */
  close(): Promise<void>
  /**
   * A destination for the app's own logger when it shares stdout with the audit lines:
   * `pino(options, audit.destination())`. Its lines go through the audit logger's writer, in order
   * with the audit records, each line written whole, so that a slow reader never sees a line of
   * either torn by the other (two writers on one pipe tear lines; see docs/deploy.md). Takes text or
   * bytes; passes on whole lines; those logged while the logger closes come right after the closing
   * record, later ones are written straight to the destination.
   * One object per logger.
   */
  destination(): AuditDestination
  stats(): AuditStats
  /** The privacy monitor's controls: block / unblock an actor, scram / unscram (each change is audited). */
  readonly monitor: AuditMonitor
  /** Stream id of the integrity chain, if on. */
  readonly streamId: string | undefined
}
