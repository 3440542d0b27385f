// @boundary-audit/express public entry point.

export type { ActionInfo, Actor, AuditLogger, IdentityHeaders, IgnoreRule } from '@boundary-audit/core'
// The default actor resolver, for custom resolvers that fall back to it:
// `actor: (req) => fromMySession(req) ?? defaultActor(req)`.
export { actorFromClaims, conventionalActor as defaultActor } from '@boundary-audit/core'
export { auditClientErrors } from './client-errors'
export { auditErrorHandler, auditMiddleware } from './middleware'
export type {
  AuditErrorRequestHandler,
  AuditRequest,
  AuditRequestHandler,
  ExpressAuditOptions,
} from './types'
