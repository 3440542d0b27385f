// Framework-neutral HTTP logic shared by @boundary-audit/express and @boundary-audit/nestjs.

export type { IdentityHeaders, IdentityHeadersOption } from './actor'
export {
  actorFromClaims,
  actorFromHeaders,
  compileIdentityHeaders,
  conventionalActor,
  IDENTITY_HEADER_PRESETS,
} from './actor'
export type { HttpExchange, HttpExchangeInit } from './exchange'
export {
  auditUnavailable,
  httpExchangeOf,
  installResponseCounting,
  normalizeIp,
  respondUnavailable,
  startHttpExchange,
} from './exchange'
export { compileHeaderAllowList, DEFAULT_HEADER_ALLOW_LIST, headerRefusal, pickHeaders } from './headers'
export type { ActionInfo, HttpAuditConfig, HttpAuditOptions, IgnoreRule } from './options'
export { compileHttpAuditOptions } from './options'
export { respondRefused } from './refuse'
export { isSaneRequestId, MAX_REQUEST_ID_LENGTH, requestIdFrom } from './request-id'
export { joinRoute, routeTemplate, templatize } from './route'
export type { TraceParent } from './traceparent'
export { parseTraceparent } from './traceparent'
export { queryKeys, splitUrl } from './url'
