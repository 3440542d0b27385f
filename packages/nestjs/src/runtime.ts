import { type AuditLogger, type AuditLoggerOptions, createAuditLogger } from '@boundary-audit/core'
import {
  AUDIT_LOGGER_OPTION_KEYS,
  compileHttpAuditOptions,
  type HttpAuditConfig,
} from '@boundary-audit/core/adapter'
import type { AuditRequest, BoundaryAuditModuleOptions } from './types'

/** Injection token of the module's runtime (internal). */
export const AUDIT_RUNTIME = Symbol.for('boundary-audit.nestjs.runtime')

/** What the module's providers share: the logger, whether the module owns it, the HTTP config. */
export interface AuditRuntime {
  readonly logger: AuditLogger
  /** True when the module created the logger, and so closes it on shutdown. */
  readonly owned: boolean
  readonly http: HttpAuditConfig<AuditRequest>
}

// Options handed to createAuditLogger() when no `logger` is given: core's own list.
const LOGGER_KEYS = AUDIT_LOGGER_OPTION_KEYS
// Ours; `isGlobal` is the builder's extra and may reach the factory's result when a factory returns it.
const MODULE_KEYS = ['logger', 'isGlobal']
const NAME = 'BoundaryAuditModule options'

/**
 * Validates the module options and builds the runtime. Throws a TypeError saying what to change;
 * Nest reports it at start-up, before the app listens.
 */
export function createRuntime(options: BoundaryAuditModuleOptions | undefined): AuditRuntime {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(
      `boundary-audit: ${NAME} must be an object; got ${Array.isArray(options) ? 'an array' : typeof options}`,
    )
  }
  const o = options as Record<string, unknown>
  const loggerOptions: Record<string, unknown> = {}
  const httpOptions: Record<string, unknown> = {}
  for (const key of Object.keys(o)) {
    if (o[key] === undefined || MODULE_KEYS.includes(key)) continue
    if (LOGGER_KEYS.includes(key)) loggerOptions[key] = o[key]
    else httpOptions[key] = o[key]
  }
  // Unknown keys are reported here, with the full list of what the module accepts.
  const http = compileHttpAuditOptions<AuditRequest>(httpOptions, {
    name: NAME,
    extraKeys: [...LOGGER_KEYS, ...MODULE_KEYS],
  })

  if (o.logger !== undefined) {
    assertLogger(o.logger)
    const mixed = Object.keys(loggerOptions)
    if (mixed.length > 0) {
      throw new TypeError(
        `boundary-audit: ${NAME} has both 'logger' and createAuditLogger() options (${mixed.join(', ')}); pass the options to createAuditLogger() yourself, or drop 'logger' and let the module create it`,
      )
    }
    return { logger: o.logger, owned: false, http }
  }
  return { logger: createAuditLogger(loggerOptions as AuditLoggerOptions), owned: true, http }
}

function assertLogger(value: unknown): asserts value is AuditLogger {
  const a = value as Record<string, unknown> | null
  if (
    a === null ||
    typeof a !== 'object' ||
    typeof a.httpRequest !== 'function' ||
    typeof a.access !== 'function' ||
    typeof a.runWithContext !== 'function' ||
    typeof a.stats !== 'function'
  ) {
    throw new TypeError(
      `boundary-audit: ${NAME}.logger must be the logger returned by createAuditLogger(); got ${a === null ? 'null' : typeof a}`,
    )
  }
}
