import { contextActor, currentContext, runWithContext, setActor } from './context'
import { accessRecord, customRecord } from './events/access'
import { loginRecord, logoutRecord } from './events/auth'
import { dbRecord } from './events/db'
import { httpRecord } from './events/http'
import { type AuditRecord, type BuildEnv, buildService, ECS_VERSION } from './events/record'
import { serializeRecord } from './events/serialize'
import { type Prepared, prepareRecord } from './integrity/assemble'
import { type Chain, createChain, newStreamId } from './integrity/chain'
import { keyId, loadVerifierPublicKey } from './integrity/keys'
import { checkpointRecord, closingRecord, genesisRecord } from './integrity/records'
import { prepareMonitor } from './monitor/index'
import { LEVELS, resolveOptions } from './options'
import { createOtelEmitter, type OtelEmitter } from './otel/index'
import { compilePolicy } from './redact/index'
import type { AuditContext, AuditLogger, AuditLoggerOptions, AuditStats, Level } from './types'
import { registerExitHook } from './writer/exit'
import { byteLength, MAX_LINE_BYTES, shrinkToFit } from './writer/limit'
import { createSealingSink, type SealingSink } from './writer/sealing-sink'
import { createSink, errorName, type Sink } from './writer/sink'

/**
 * Creates an audit logger. With no options it reads its settings from the environment
 * (OTEL_SERVICE_NAME, BOUNDARY_AUDIT_*). Bad options throw here, never later.
 */
export function createAuditLogger(options?: AuditLoggerOptions): AuditLogger {
  const resolved = resolveOptions(options)
  const policy = compilePolicy(options?.redaction)
  const env: BuildEnv = { policy, service: buildService(resolved), tokens: new Map() }
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

  // Loads the optional OpenTelemetry API packages only when asked to; without them it reports once.
  const otel: OtelEmitter | undefined = resolved.otel.enabled
    ? createOtelEmitter({ loggerName: resolved.otel.loggerName, report })
    : undefined

  // The integrity chain: sealed on a worker thread when the destination allows it (writer/sealing-sink.ts),
  // else inline. Either way the verifier key is read and checked here, so a bad key fails creation.
  const integrity = resolved.integrity
  const verifier =
    integrity.enabled && integrity.verifierKey ? loadVerifierPublicKey(integrity.verifierKey) : undefined
  const keyed = verifier !== undefined
  const kid = verifier ? keyId(verifier) : undefined
  const chainOptions = {
    service: { name: resolved.service.name, instance: resolved.service.instance },
    streamId: newStreamId(),
    verifierKey: verifier ? (verifier.export({ type: 'spki', format: 'pem' }) as string) : undefined,
    checkpointIntervalSeconds: integrity.checkpointIntervalSeconds,
    stateFile: integrity.stateFile,
    maxLineBytes: MAX_LINE_BYTES - 1,
  }
  // Records are serialised by our own serializer, whichever path seals them (same text as JSON.stringify).
  const stringify = serializeRecord as (record: Record<string, unknown>) => string
  const dest = resolved.destination
  const sealing: SealingSink | undefined =
    integrity.enabled &&
    integrity.thread === 'worker' &&
    !otel &&
    !resolved.sync &&
    dest !== false &&
    typeof dest !== 'object'
      ? createSealingSink({ dest, maxBufferBytes: resolved.maxBufferBytes, report, chain: chainOptions })
      : undefined
  const sink: Sink | undefined =
    sealing || dest === false
      ? undefined
      : createSink(dest, { sync: resolved.sync, maxBufferBytes: resolved.maxBufferBytes, report })
  const chain: Chain | undefined =
    integrity.enabled && !sealing
      ? createChain({ ...chainOptions, shrink: shrinkToFit, stringify })
      : undefined
  if (integrity.enabled && !keyed) {
    report(
      'no verifier key configured (integrity.verifierKey or BOUNDARY_AUDIT_VERIFIER_KEY): the integrity chain is unkeyed and only detects accidental damage, not deliberate tampering',
    )
  }
  const prepareOptions = { maxLineBytes: MAX_LINE_BYTES - 1, shrink: shrinkToFit, stringify }

  let written = 0
  let errors = 0
  let droppedLocally = 0
  let closed = false
  let closing: Promise<void> | undefined

  /** Serialises, caps at 16 KiB, seals and writes one record. Never throws. */
  const writeRecord = (record: AuditRecord): void => {
    if (sealing) {
      let prepared: Prepared
      try {
        prepared = prepareRecord(record, prepareOptions)
      } catch (err) {
        errors++
        report(`an event could not be serialised (${errorName(err)}); a reduced event was written instead`)
        prepared = prepareRecord(internalErrorRecord(env, err), prepareOptions)
      }
      if (sealing.write(prepared)) written++
      return
    }
    let line: string
    let sent: Record<string, unknown> = record
    try {
      if (chain) {
        // The chain serialises once and calls shrinkToFit itself if the sealed line would be too long.
        line = chain.seal(record)
      } else {
        line = serializeRecord(record)
        if (byteLength(line) > MAX_LINE_BYTES - 1) line = shrinkToFit(record, MAX_LINE_BYTES - 1)
      }
    } catch (err) {
      errors++
      report(`an event could not be serialised (${errorName(err)}); a reduced event was written instead`)
      sent = internalErrorRecord(env, err)
      line = JSON.stringify(sent)
    }
    if (sink) {
      if (sink.write(`${line}\n`)) written++
    } else {
      written++
    }
    // The same (redacted, sealed) record as the line; emit never throws.
    otel?.emit(sent)
  }

  /** Builds with the caller's input and writes; a builder failure still yields one line. */
  const emit = (build: () => AuditRecord): void => {
    if (closed) {
      droppedLocally++
      return
    }
    let record: AuditRecord
    try {
      record = build()
    } catch (err) {
      errors++
      report(`an event could not be built (${errorName(err)}); a reduced event was written instead`)
      record = internalErrorRecord(env, err)
    }
    const level = record['log.level'] as Level
    if ((LEVELS[level] ?? LEVELS.info) < minLevel) return
    writeRecord(record)
    monitor.observe(record)
  }

  const now = () => new Date().toISOString()
  const writeChainRecord = (make: () => Record<string, unknown>) => {
    if (!integrity.enabled) return
    try {
      writeRecord(completeChainRecord(env, make()))
    } catch (err) {
      errors++
      report(`an integrity record could not be written (${errorName(err)})`)
    }
  }

  writeChainRecord(() => genesisRecord(now(), keyed, kid))
  // Privacy monitor (monitor/): its alerts and enforcement events are written whatever the level.
  const monitor = startMonitor({
    env,
    report,
    write: (record) => {
      if (!closed) writeRecord(record)
    },
  })
  let timer: NodeJS.Timeout | undefined
  if (integrity.enabled && integrity.checkpointIntervalSeconds > 0) {
    timer = setInterval(
      () => writeChainRecord(() => checkpointRecord(now())),
      integrity.checkpointIntervalSeconds * 1000,
    )
    timer.unref()
  }

  // Process end without close(): write the closing record and flush (see writer/exit.ts).
  const stop = (reason: string | undefined): boolean => {
    if (closed) return false
    closed = true
    if (timer) clearInterval(timer)
    writeChainRecord(() => closingRecord(now(), reason))
    return true
  }
  const hook = {
    async finish(reason: string) {
      if (stop(reason)) await (sealing ?? sink)?.flush()
    },
    finishSync(reason: string) {
      if (stop(reason)) (sealing ?? sink)?.flushSync()
    },
  }
  const unregister = registerExitHook(hook)

  const logger: AuditLogger = {
    login: (input) => emit(() => loginRecord(env, currentContext(), input)),
    logout: (input) => emit(() => logoutRecord(env, currentContext(), input)),
    access: (input) => emit(() => accessRecord(env, currentContext(), input)),
    event: (input) => emit(() => customRecord(env, currentContext(), input)),
    httpRequest: (input) => emit(() => httpRecord(env, currentContext(), input)),
    dbQuery: (input) => emit(() => dbRecord(env, currentContext(), input)),
    runWithContext<T>(context: AuditContext, fn: () => T): T {
      if (typeof fn !== 'function')
        throw new TypeError('boundary-audit: runWithContext(context, fn) needs a function')
      return runWithContext(context && typeof context === 'object' ? context : {}, fn)
    },
    setActor,
    getContext() {
      const ctx = currentContext()
      if (!ctx) return undefined
      return { ...ctx, actor: contextActor(ctx) }
    },
    flush: async () => {
      await (sealing ?? sink)?.flush()
    },
    close() {
      closing ??= (async () => {
        stop(undefined)
        unregister()
        await monitor.close()
        await (sealing ?? sink)?.end()
      })()
      return closing
    },
    stats(): AuditStats {
      return {
        written,
        dropped: droppedLocally + ((sealing ?? sink)?.dropped ?? 0),
        errors,
        healthy: !closed && ((sealing ?? sink)?.healthy ?? true),
        sealing: sealing ? sealing.mode : chain ? 'inline' : 'off',
      }
    },
    monitor,
    get streamId() {
      return integrity.enabled ? chainOptions.streamId : undefined
    },
  }
  return logger
}

/** Genesis, checkpoint and closing records come from the chain; time and service come from us. */
function completeChainRecord(env: BuildEnv, record: Record<string, unknown>): AuditRecord {
  const out = record as AuditRecord
  out['@timestamp'] ??= new Date().toISOString()
  out['log.level'] ??= 'info'
  out['ecs.version'] ??= ECS_VERSION
  out.service ??= env.service
  return out
}

/** What is written when an event could not be built: it still says something happened. */
function internalErrorRecord(env: BuildEnv, err: unknown): AuditRecord {
  return {
    '@timestamp': new Date().toISOString(),
    'log.level': 'error',
    message: 'audit event could not be built',
    'ecs.version': ECS_VERSION,
    event: {
      kind: 'event',
      category: ['process'],
      type: ['error'],
      action: 'audit-internal-error',
      outcome: 'unknown',
    },
    service: env.service,
    error: { type: errorName(err) },
  }
}
