import { hostname } from 'node:os'
import { isWatchedLogExporter, type WatchedLogExporter } from './otel/watch-exporter'
import type { AuditLoggerOptions, Destination, Level } from './types'
import { resolveSealWorker } from './writer/seal-worker-file'

/** Options after defaults and environment are applied; what the rest of core reads. */
export interface ResolvedOptions {
  service: { name: string; version?: string; environment?: string; instance: string }
  level: Level
  destination: Destination | false
  sync: boolean
  maxBufferBytes: number
  shutdownTimeoutMs: number
  integrity: {
    enabled: boolean
    verifierKey?: string
    checkpointIntervalSeconds: number
    stateFile?: string
    thread: 'worker' | 'inline'
    sealWorker?: string
  }
  otel: { enabled: boolean; loggerName: string; exporter?: WatchedLogExporter }
}

export const LEVELS: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 }

/** Every option createAuditLogger() takes; adapters that accept them inline (Nest) use this list. */
export const AUDIT_LOGGER_OPTION_KEYS: readonly string[] = Object.freeze([
  'service',
  'level',
  'destination',
  'sync',
  'maxBufferBytes',
  'shutdownTimeoutMs',
  'redaction',
  'integrity',
  'otel',
  'monitor',
])
const KNOWN_TOP = new Set(AUDIT_LOGGER_OPTION_KEYS)

function fail(what: string, got: unknown): never {
  let shown: string
  try {
    shown = typeof got === 'string' ? JSON.stringify(got) : String(got)
  } catch {
    shown = typeof got
  }
  throw new TypeError(`boundary-audit: ${what}; got ${shown}`)
}

function optString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '') fail(`${name} must be a non-empty string`, value)
  return value
}

function parseBool(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined
  const v = value.trim().toLowerCase()
  if (['1', 'true', 'on', 'yes'].includes(v)) return true
  if (['0', 'false', 'off', 'no'].includes(v)) return false
  return fail(`environment variable ${name} must be one of true/false/on/off/1/0`, value)
}

function envDestination(value: string | undefined): Destination | false | undefined {
  if (value === undefined || value === '') return undefined
  if (value === 'stdout' || value === 'stderr') return value
  if (value === 'none' || value === 'off') return false
  return value // a file path
}

/**
 * Validates the options given to createAuditLogger and merges them with the environment.
 * Every message says which option is wrong and what to write instead.
 */
export function resolveOptions(
  options: AuditLoggerOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || Array.isArray(options)) fail('options must be an object', options)
  for (const key of Object.keys(options)) {
    if (!KNOWN_TOP.has(key)) {
      fail(`unknown option "${key}" (known: ${[...KNOWN_TOP].join(', ')})`, key)
    }
  }

  const service = options.service ?? {}
  if (typeof service !== 'object')
    fail('service must be an object like { name, version, environment }', service)
  const name =
    optString(service.name, 'service.name') ??
    env.OTEL_SERVICE_NAME ??
    env.BOUNDARY_AUDIT_SERVICE_NAME ??
    'unknown_service:node'
  const resourceAttrs = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES)
  const version =
    optString(service.version, 'service.version') ??
    env.BOUNDARY_AUDIT_SERVICE_VERSION ??
    resourceAttrs['service.version']
  const environment =
    optString(service.environment, 'service.environment') ??
    env.BOUNDARY_AUDIT_ENVIRONMENT ??
    resourceAttrs['deployment.environment.name'] ??
    resourceAttrs['deployment.environment']
  const instance =
    optString(service.instance, 'service.instance') ?? env.HOSTNAME ?? safeHostname() ?? 'unknown-instance'

  const level = (options.level ?? env.BOUNDARY_AUDIT_LEVEL ?? 'info') as Level
  if (!(level in LEVELS)) fail(`level must be one of ${Object.keys(LEVELS).join(', ')}`, level)

  const destination: Destination | false =
    options.destination ?? envDestination(env.BOUNDARY_AUDIT_DESTINATION) ?? 'stdout'
  if (destination !== false) {
    const d = destination as unknown
    const ok =
      (typeof d === 'string' && d.length > 0) ||
      (typeof d === 'number' && Number.isInteger(d) && d >= 0) ||
      (typeof d === 'object' && d !== null && typeof (d as { write?: unknown }).write === 'function')
    if (!ok) {
      fail(
        "destination must be 'stdout', 'stderr', a file path, a file descriptor number, an object with a write(line) method, or false",
        d,
      )
    }
  }

  const sync = options.sync ?? parseBool(env.BOUNDARY_AUDIT_SYNC, 'BOUNDARY_AUDIT_SYNC') ?? false
  if (typeof sync !== 'boolean') fail('sync must be true or false', sync)

  const maxBufferBytes = options.maxBufferBytes ?? 64 * 1024 * 1024
  if (!Number.isInteger(maxBufferBytes) || maxBufferBytes < 64 * 1024) {
    fail('maxBufferBytes must be an integer of at least 65536 (64 KiB)', maxBufferBytes)
  }

  const shutdownTimeoutMs =
    options.shutdownTimeoutMs ??
    (env.BOUNDARY_AUDIT_SHUTDOWN_TIMEOUT_MS !== undefined && env.BOUNDARY_AUDIT_SHUTDOWN_TIMEOUT_MS !== ''
      ? Number(env.BOUNDARY_AUDIT_SHUTDOWN_TIMEOUT_MS)
      : 10_000)
  if (!Number.isInteger(shutdownTimeoutMs) || shutdownTimeoutMs < 100 || shutdownTimeoutMs > 600_000) {
    fail(
      `shutdownTimeoutMs must be an integer number of milliseconds from 100 to 600000 (keep it under your orchestrator's grace period, 30 s on Kubernetes)${options.shutdownTimeoutMs === undefined ? ' (from BOUNDARY_AUDIT_SHUTDOWN_TIMEOUT_MS)' : ''}`,
      shutdownTimeoutMs,
    )
  }

  const integrity = options.integrity ?? {}
  if (typeof integrity !== 'object')
    fail('integrity must be an object like { enabled, verifierKey }', integrity)
  const integrityEnabled =
    integrity.enabled ?? parseBool(env.BOUNDARY_AUDIT_INTEGRITY, 'BOUNDARY_AUDIT_INTEGRITY') ?? true
  if (typeof integrityEnabled !== 'boolean') fail('integrity.enabled must be true or false', integrityEnabled)
  const verifierKey =
    optString(integrity.verifierKey, 'integrity.verifierKey') ?? emptyToUndef(env.BOUNDARY_AUDIT_VERIFIER_KEY)
  const interval =
    integrity.checkpointIntervalSeconds ??
    (env.BOUNDARY_AUDIT_CHECKPOINT_SECONDS !== undefined ? Number(env.BOUNDARY_AUDIT_CHECKPOINT_SECONDS) : 60)
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    fail(
      'integrity.checkpointIntervalSeconds must be a number of seconds >= 0 (0 turns checkpoints off)',
      interval,
    )
  }
  const stateFile =
    optString(integrity.stateFile, 'integrity.stateFile') ?? emptyToUndef(env.BOUNDARY_AUDIT_STATE_FILE)
  const thread = integrity.thread ?? emptyToUndef(env.BOUNDARY_AUDIT_SEAL_THREAD) ?? 'worker'
  if (thread !== 'worker' && thread !== 'inline') {
    fail(
      `integrity.thread must be 'worker' or 'inline'${integrity.thread === undefined ? ' (from BOUNDARY_AUDIT_SEAL_THREAD)' : ''}`,
      thread,
    )
  }

  const sealWorker =
    integrity.sealWorker !== undefined
      ? resolveSealWorker(integrity.sealWorker, false)
      : resolveSealWorker(env.BOUNDARY_AUDIT_SEAL_WORKER, true)

  const otel = options.otel ?? {}
  if (typeof otel !== 'object') fail('otel must be an object like { enabled: true }', otel)
  const otelEnabled = otel.enabled ?? parseBool(env.BOUNDARY_AUDIT_OTEL, 'BOUNDARY_AUDIT_OTEL') ?? false
  if (typeof otelEnabled !== 'boolean') fail('otel.enabled must be true or false', otelEnabled)
  const loggerName = optString(otel.loggerName, 'otel.loggerName') ?? '@boundary-audit/core'
  const exporter = otel.exporter
  if (exporter !== undefined && !isWatchedLogExporter(exporter)) {
    fail('otel.exporter must be what watchLogExporter(yourLogExporter) returns', exporter)
  }
  if (exporter !== undefined && !otelEnabled) {
    fail(
      'otel.exporter is set but otel.enabled is false; set otel.enabled: true or drop otel.exporter',
      exporter,
    )
  }

  if (destination === false && !otelEnabled) {
    fail(
      'destination is false and otel is off, so events would go nowhere; set destination or otel.enabled',
      false,
    )
  }

  return {
    service: { name, version, environment, instance },
    level,
    destination,
    sync,
    maxBufferBytes,
    shutdownTimeoutMs,
    integrity: {
      enabled: integrityEnabled,
      verifierKey,
      checkpointIntervalSeconds: interval,
      stateFile,
      thread,
      sealWorker,
    },
    otel: { enabled: otelEnabled, loggerName, exporter },
  }
}

function emptyToUndef(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v
}

function safeHostname(): string | undefined {
  try {
    return hostname()
  } catch {
    return undefined
  }
}

/** `key1=value1,key2=value2` as OpenTelemetry defines OTEL_RESOURCE_ATTRIBUTES. */
function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!raw) return out
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=')
    if (i <= 0) continue
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim())
    } catch {
      // a malformed percent-encoding: ignore that pair, as the OTel SDK does
    }
  }
  return out
}
