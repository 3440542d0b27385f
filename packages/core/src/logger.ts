import type { KeyObject } from 'node:crypto'
import { contextActor, currentContext, runWithContext, setActor } from './context'
import { createDrain, DRAIN, DRAIN_TIMEOUT_MS } from './drain'
import { accessRecord, customRecord } from './events/access'
import { loginRecord, logoutRecord } from './events/auth'
import { dbRecord } from './events/db'
import { httpRecord } from './events/http'
import { type AuditRecord, type BuildEnv, buildEnv, ECS_VERSION } from './events/record'
import { createRecordSerializer } from './events/serialize'
import { isPhiShapedRequestId } from './http/request-id'
import { createPreparer } from './integrity/assemble'
import { createChain, type IntegrityFields, newStreamId } from './integrity/chain'
import { loadVerifierPublicKey } from './integrity/keys'
import { internalErrorRecord } from './integrity/records'
import { attachPolicy } from './logger-policy'
import { prepareMonitor } from './monitor/index'
import { LEVELS, type ResolvedOptions, resolveOptions } from './options'
import { createOtelEmitter, type OtelEmitter } from './otel/index'
import { compilePolicy, NO_PSEUDONYM_KEY_WARNING, type Policy } from './redact/index'
import { LinkedIds } from './redact/linked-ids'
import { ensureScope, type RequestScope, scopeOf } from './request-scope'
import type { AuditContext, AuditLogger, AuditLoggerOptions, AuditStats, Level } from './types'
import { randomUuid } from './uuid'
import { AppDestination } from './writer/app-destination'
import { createAppLines } from './writer/app-lines'
import { type Backend, inlineBackend } from './writer/backend'
import { registerExitHook } from './writer/exit'
import type { Item } from './writer/items'
import { byteLength, MAX_LINE_BYTES, shrinkToFit } from './writer/limit'
import { boomOutput, errorName, nullOutput, objectOutput } from './writer/output'
import { sealThreadUnavailable } from './writer/seal-worker-file'
import { threadBackend } from './writer/thread'
import { createWriter } from './writer/writer'

/**
 * Creates an audit logger. With no options it reads its settings from the environment
 * (OTEL_SERVICE_NAME, BOUNDARY_AUDIT_*). Bad options throw here, never later.
 */
export function createAuditLogger(options?: AuditLoggerOptions): AuditLogger {
  const resolved = resolveOptions(options)
  const policy = compilePolicy(options?.redaction)
  const env = buildEnv(policy, resolved)
  const minLevel = LEVELS[resolved.level]
  // Checked before anything is opened: bad monitor options throw here too.
  const startMonitor = prepareMonitor(options?.monitor, { policy, serviceName: resolved.service.name })

  const reported = new Set<string>()
  const report = (message: string) => {
    if (reported.has(message)) return
    reported.add(message)
    try {
      process.emitWarning(`boundary-audit: ${message}`, { code: 'BOUNDARY_AUDIT' })
    } catch {
      // emitWarning itself failing is not worth breaking the host for
    }
  }
  for (const warning of policy.warnings) report(warning)
  // Resource ids and route parameters are always pseudonymised: without a key they are masked, and the
  // trail loses which patient each record concerns. Said once, in the same words as the policy's.
  if (!policy.hasPseudonymKey) report(NO_PSEUDONYM_KEY_WARNING)

  // Loads the optional OpenTelemetry API packages only when asked to; without them it reports once.
  const otel: OtelEmitter | undefined = resolved.otel.enabled
    ? createOtelEmitter({ loggerName: resolved.otel.loggerName, report })
    : undefined

  const integrity = resolved.integrity
  const verifier =
    integrity.enabled && integrity.verifierKey ? loadVerifierPublicKey(integrity.verifierKey) : undefined
  if (integrity.enabled && !verifier) {
    report(
      'no verifier key configured (integrity.verifierKey or BOUNDARY_AUDIT_VERIFIER_KEY): the integrity chain is unkeyed and only detects accidental damage, not deliberate tampering',
    )
  }
  const streamId = integrity.enabled ? newStreamId() : undefined
  const writer = createWriter({
    backend: chooseBackend(resolved, env, report, otel, verifier, streamId),
    maxBufferBytes: resolved.maxBufferBytes,
    shutdownTimeoutMs: resolved.shutdownTimeoutMs,
    report,
  })
  // One serializer and one preparer per logger: what they remember between records is this logger's.
  const serializer = createRecordSerializer()
  const serializeRecord = serializer.serialize
  const prepare = createPreparer({
    maxLineBytes: MAX_LINE_BYTES - 1,
    shrink: shrinkToFit,
    stringify: serializeRecord as (record: Record<string, unknown>) => string,
    serializeSorted: serializer.sorted as (record: Record<string, unknown>) => string | undefined,
    serializeSplit: serializer.split as (record: Record<string, unknown>) => string | undefined,
    sortedOffsets: serializer.offsets,
  })
  let errors = 0

  /**
   * The one way through: serialise (and, with the chain on, prepare for sealing: shape checks, the
   * 16 KiB cap), then hand to the writer, which seals and writes in order. Never throws.
   */
  const writeRecord = (record: AuditRecord): void => {
    let item: Item
    try {
      item = toItem(record)
    } catch (err) {
      errors++
      report(`an event could not be serialised (${errorName(err)}); a reduced event was written instead`)
      item = toItem(buildFailedRecord(env, err))
    }
    writer.accept(item)
  }
  const toItem = (record: AuditRecord): Item => {
    const keep = otel ? record : undefined
    if (integrity.enabled) return { kind: 'record', prepared: prepare(record), record: keep }
    let line = serializeRecord(record)
    if (byteLength(line) > MAX_LINE_BYTES - 1) line = shrinkToFit(record, MAX_LINE_BYTES - 1)
    return { kind: 'record', line, record: keep }
  }

  /**
   * Builds with the caller's input and writes; a builder failure still yields one line. `ownId` is
   * the resource id of an access call (or a custom event's resource); `scope` a request's scope handed
   * in by the adapter (the http-request event may be written outside the request's async context).
   * The clear ids of the request and the call are replaced by their pseudonyms wherever else they
   * occur in the record (redact/linked-ids.ts).
   */
  const emit = (
    build: (ctx: AuditContext | undefined) => AuditRecord,
    ownId?: unknown,
    isAccess?: boolean,
    given?: RequestScope,
  ): void => {
    let record: AuditRecord
    try {
      const ctx = currentContext()
      record = build(ctx)
      unlinkIds(env, record, ctx, ownId, isAccess === true, given)
    } catch (err) {
      errors++
      report(`an event could not be built (${errorName(err)}); a reduced event was written instead`)
      record = buildFailedRecord(env, err)
    }
    const level = record['log.level'] as Level
    if ((LEVELS[level] ?? LEVELS.info) < minLevel) return
    writeRecord(record)
    monitor.observe(record)
  }

  // Privacy monitor (monitor/): its alerts and enforcement events are written whatever the level.
  const monitor = startMonitor({
    env,
    report,
    write: (record) => {
      if (!writer.closed) writeRecord(record)
    },
  })
  let timer: NodeJS.Timeout | undefined
  if (integrity.enabled && integrity.checkpointIntervalSeconds > 0) {
    timer = setInterval(() => writer.checkpoint(), integrity.checkpointIntervalSeconds * 1000)
    timer.unref()
  }

  // Process end without close(): the exit hooks close with a reason and write (writer/exit.ts).
  let closing: Promise<void> | undefined
  // The app's own logger, through the same writer (audit.destination(); writer/app-lines.ts).
  let appDestination: AppDestination | undefined
  const appLines = createAppLines(writer, resolved.destination, resolved.maxBufferBytes)
  const closeWriter = (reason: string | undefined): Promise<void> => {
    if (timer) clearInterval(timer)
    writer.close(reason)
    closing ??= (async () => {
      await monitor.close()
      await writer.end()
      appLines.finish()
      // Everything is with the SDK now: its exports from here on are bounded (otel/watch-exporter.ts).
      resolved.otel.exporter?.beginShutdown()
      unregister()
    })()
    return closing
  }
  // HTTP requests the adapters admitted finish and write their events before the closing record
  // (bounded; new ones are refused meanwhile, see http/exchange.ts).
  const drain = createDrain()
  const drainMs = Math.min(DRAIN_TIMEOUT_MS, Math.floor(resolved.shutdownTimeoutMs / 2))
  let draining: Promise<void> | undefined
  const end = (reason: string | undefined): Promise<void> => {
    const requests = drain.close(drainMs)
    if (requests === undefined) return closeWriter(reason)
    draining ??= requests.then(() => closeWriter(reason))
    return draining
  }
  const hook = {
    finish: (reason: string) => end(reason),
    finishSync(reason: string) {
      void drain.close(0)
      if (timer) clearInterval(timer)
      writer.endSync(reason)
      appLines.finish()
    },
    timeoutMs: resolved.shutdownTimeoutMs + drainMs,
  }
  const unregister = registerExitHook(hook)

  const logger: AuditLogger = {
    login: (input) => emit((ctx) => loginRecord(env, ctx, input)),
    logout: (input) => emit((ctx) => logoutRecord(env, ctx, input)),
    access: (input) => emit((ctx) => accessRecord(env, ctx, input), resourceIdOf(input), true),
    event: (input) => emit((ctx) => customRecord(env, ctx, input), resourceIdOf(input)),
    httpRequest: (input) =>
      emit((ctx) => httpRecord(env, ctx, input), undefined, false, scopeOfRecord(input)),
    dbQuery: (input) => emit((ctx) => dbRecord(env, ctx, input)),
    runWithContext<T>(context: AuditContext, fn: () => T): T {
      if (typeof fn !== 'function')
        throw new TypeError('boundary-audit: runWithContext(context, fn) needs a function')
      return runWithContext(context && typeof context === 'object' ? saneContext(context, policy) : {}, fn)
    },
    setActor,
    getContext() {
      const ctx = currentContext()
      if (!ctx) return undefined
      return { ...ctx, actor: contextActor(ctx) }
    },
    flush: () => writer.flush(),
    close: () => end(undefined),
    destination() {
      appDestination ??= new AppDestination(appLines)
      return appDestination
    },
    stats(): AuditStats {
      const stats: AuditStats = {
        ...writer.stats(),
        errors,
        pseudonyms: policy.hasPseudonymKey ? 'keyed' : 'masked',
      }
      if (resolved.otel.exporter) stats.otel = resolved.otel.exporter.counts
      return stats
    },
    monitor,
    get streamId() {
      return streamId
    },
  }
  attachPolicy(logger, policy)
  Object.defineProperty(logger, DRAIN, { value: drain })
  return logger
}

/**
 * Where records are sealed and written: on the sealing thread when the destination allows it
 * (stdout, stderr, an fd or a file, asynchronous, no OpenTelemetry), else on this thread.
 */
function chooseBackend(
  resolved: ResolvedOptions,
  env: BuildEnv,
  report: (message: string) => void,
  otel: OtelEmitter | undefined,
  verifier: KeyObject | undefined,
  streamId: string | undefined,
): Backend {
  const { integrity, destination: dest } = resolved
  const chainOptions = {
    service: { name: resolved.service.name, instance: resolved.service.instance },
    streamId: streamId ?? newStreamId(),
    verifierKey: verifier ? (verifier.export({ type: 'spki', format: 'pem' }) as string) : undefined,
    checkpointIntervalSeconds: integrity.checkpointIntervalSeconds,
    stateFile: integrity.stateFile,
    maxLineBytes: MAX_LINE_BYTES - 1,
  }
  const common = { service: env.service, ecsVersion: ECS_VERSION, maxLineBytes: MAX_LINE_BYTES - 1 }
  if (
    integrity.enabled &&
    integrity.thread === 'worker' &&
    !otel &&
    !resolved.sync &&
    dest !== false &&
    typeof dest !== 'object'
  ) {
    const thread = threadBackend({
      ...common,
      dest,
      report,
      chain: chainOptions,
      workerFile: integrity.sealWorker,
    })
    if (thread) return thread
    report(sealThreadUnavailable(integrity.sealWorker))
  }
  return inlineBackend({
    ...common,
    chain: integrity.enabled ? createChain(chainOptions) : undefined,
    output: (events) =>
      dest === false
        ? nullOutput(events)
        : typeof dest === 'object'
          ? objectOutput(dest, events)
          : boomOutput(dest, resolved.sync, events),
    report,
    immediate: resolved.sync || dest === false || typeof dest === 'object' || otel !== undefined,
    onSealed: otel
      ? (record, fields) => {
          if (fields) attachIntegrity(record, fields)
          otel.emit(record)
        }
      : undefined,
  })
}

/** The OpenTelemetry record carries the same chain fields as the line. */
function attachIntegrity(record: Record<string, unknown>, integrity: IntegrityFields): void {
  try {
    const audit = record.audit
    if (audit && typeof audit === 'object' && !Array.isArray(audit))
      (audit as Record<string, unknown>).integrity = integrity
    else record.audit = { integrity }
  } catch {
    // a frozen record: the line is what counts
  }
}

/**
 * A caller's context with a request id that holds an identifier (an SSN, a card or phone number, an MRN,
 * a date of birth) replaced by a fresh UUID: request ids are written as they are, so they must not be PHI.
 */
function saneContext(context: AuditContext, policy: Policy): AuditContext {
  const id = context.requestId as unknown
  if (id === undefined || id === null) return context
  if (typeof id === 'string' && !isPhiShapedRequestId(id, policy)) return context
  // a number may be an SSN or a phone number as much as a string of digits
  return { ...context, requestId: randomUuid() }
}

/** The resource id an access call or custom event names, read without trusting the input. */
function resourceIdOf(input: unknown): unknown {
  try {
    return (input as { resource?: { id?: unknown } } | undefined)?.resource?.id
  } catch {
    return undefined
  }
}

/**
 * Clear ids of the request (route parameters, earlier access events) and of this call (its resource
 * id) are replaced by what they were written as, wherever else they occur in the record. An access
 * event's id joins its request's scope (a runWithContext scope gets one), so later records of the
 * request, and its http-request event, replace it too.
 */
function unlinkIds(
  env: BuildEnv,
  record: AuditRecord,
  ctx: AuditContext | undefined,
  ownId: unknown,
  isAccess: boolean,
  given: RequestScope | undefined,
): void {
  const hasOwn = ownId !== undefined && ownId !== null
  const scope = given ?? scopeOf(ctx) ?? (hasOwn && ctx ? ensureScope(ctx) : undefined)
  if (scope && isAccess) scope.noteAccess(record.event.action)
  let ids = scope?.current(env.policy)
  if (hasOwn) {
    const written = (record.audit?.resource as { id?: unknown } | undefined)?.id
    if (typeof written === 'string') {
      ids ??= new LinkedIds()
      ids.add(ownId, written)
    }
  }
  if (ids !== undefined && (ids.size > 0 || ids.overflow)) ids.scrubRecord(record)
}

/** The scope an adapter attached to an http-request record (see http/exchange.ts). */
function scopeOfRecord(input: unknown): RequestScope | undefined {
  try {
    return scopeOf(input as AuditContext)
  } catch {
    return undefined
  }
}

/** What is written when an event could not be built: it still says something happened. */
function buildFailedRecord(env: BuildEnv, err: unknown): AuditRecord {
  const record = internalErrorRecord(
    new Date().toISOString(),
    'audit event could not be built',
    errorName(err),
  )
  return { ...record, 'ecs.version': ECS_VERSION, service: env.service }
}
