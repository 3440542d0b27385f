// @boundary-audit/core/adapter: what the framework adapters (@boundary-audit/express, /nestjs, /pg)
// build on. Not for applications: the root entry point is theirs. Semver applies here too, but this
// surface follows the adapters' needs.

export type { HttpExchange, HttpExchangeInit } from './http/exchange'
export {
  auditUnavailable,
  currentHttpExchange,
  httpExchangeOf,
  installResponseCounting,
  normalizeIp,
  refuseUnaudited,
  respondUnavailable,
  startHttpExchange,
} from './http/exchange'
export type { HttpAuditConfig } from './http/options'
export { compileHttpAuditOptions } from './http/options'
export { respondRefused } from './http/refuse'
export { joinRoute, routeTemplate, templatize } from './http/route'
export { splitUrl } from './http/url'
// The option names createAuditLogger() takes, so a framework module can tell them from its own.
export { AUDIT_LOGGER_OPTION_KEYS } from './options'
