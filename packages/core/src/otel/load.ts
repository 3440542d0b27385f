import { createRequire } from 'node:module'
import type * as Api from '@opentelemetry/api'
import type * as ApiLogs from '@opentelemetry/api-logs'

/** The parts of the two OpenTelemetry API packages the emitter uses. */
export interface OtelApis {
  context: Pick<typeof Api.context, 'active'>
  trace: Pick<typeof Api.trace, 'getSpanContext' | 'setSpanContext'>
  isSpanContextValid: typeof Api.isSpanContextValid
  logs: Pick<typeof ApiLogs.logs, 'getLoggerProvider'>
}

/** `require` of a module id; tests pass one that fails to simulate the packages being absent. */
export type ModuleLoader = (id: string) => unknown

/**
 * A `require` that resolves from this file, in both builds: the ESM build has import.meta.url,
 * the CommonJS build (where bundlers leave import.meta empty) has __filename.
 */
export function defaultLoader(): ModuleLoader {
  const from = (typeof import.meta === 'object' && import.meta.url) || __filename
  return createRequire(from)
}

/**
 * Loads @opentelemetry/api and @opentelemetry/api-logs. They are optional peers of core, so this
 * runs only when the OTel option is on, and returns an Error (never throws) when either package is
 * missing or too old to have what the emitter needs.
 */
export function loadOtelApis(load: ModuleLoader = defaultLoader()): OtelApis | Error {
  let api: Partial<typeof Api>
  let apiLogs: Partial<typeof ApiLogs>
  try {
    api = load('@opentelemetry/api') as Partial<typeof Api>
    apiLogs = load('@opentelemetry/api-logs') as Partial<typeof ApiLogs>
  } catch (err) {
    const code = (err as { code?: unknown })?.code
    return new Error(
      code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND'
        ? 'the OpenTelemetry option is on but @opentelemetry/api and @opentelemetry/api-logs are not both installed; install them (npm i @opentelemetry/api @opentelemetry/api-logs) or turn otel off. Events still go to the other destinations'
        : `the OpenTelemetry API packages could not be loaded (${(err as Error)?.name ?? typeof err}); OpenTelemetry export is off`,
    )
  }
  const ok =
    typeof api?.context?.active === 'function' &&
    typeof api.trace?.getSpanContext === 'function' &&
    typeof api.trace.setSpanContext === 'function' &&
    typeof api.isSpanContextValid === 'function' &&
    typeof apiLogs?.logs?.getLoggerProvider === 'function'
  if (!ok) {
    return new Error(
      'the installed @opentelemetry/api or @opentelemetry/api-logs is too old (need api >= 1.3 and api-logs >= 0.52); OpenTelemetry export is off',
    )
  }
  return {
    context: api.context!,
    trace: api.trace!,
    isSpanContextValid: api.isSpanContextValid!,
    logs: apiLogs.logs!,
  }
}
