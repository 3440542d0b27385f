import type { IncomingMessage } from 'node:http'
import type {
  AuditLogger,
  AuditLoggerOptions,
  EventCategory,
  EventType,
  HttpAuditOptions,
  ResourceRef,
} from '@boundary-audit/core'

/**
 * The request as the options and `@Audit` see it: the request object of the Express adapter (a Node
 * request plus `params`, `query`, `ip`, and whatever guards attach, such as Passport's `user`).
 * Loosely typed on purpose, so the package depends on neither Express's nor Passport's typings.
 */
export interface AuditRequest extends IncomingMessage {
  [key: string]: any
}

/** Options of the HTTP side: which requests are audited, how the actor is found. All optional. */
export interface BoundaryAuditHttpOptions extends HttpAuditOptions<AuditRequest> {}

/**
 * Options of `BoundaryAuditModule.forRoot()` (and what a `forRootAsync()` factory returns).
 *
 * Either `logger`, an existing logger from `createAuditLogger()` that the app owns (the module never
 * closes it), or the options of `createAuditLogger()` (`service`, `destination`, `redaction`, ...),
 * from which the module creates its own logger and closes it on application shutdown. Mixing
 * both is an error. The HTTP options (`actor`, `ignore`, `headers`, ...) go alongside either.
 */
export interface BoundaryAuditModuleOptions extends AuditLoggerOptions, BoundaryAuditHttpOptions {
  /** An existing logger. When set, none of the `createAuditLogger()` options may be given. */
  logger?: AuditLogger
}

/** What `@Audit()` needs besides the action name. */
export interface AuditOptions<Req = AuditRequest> {
  /**
   * The record accessed, or a function of the request returning it, e.g.
   * `(req) => ({ type: 'patient', id: req.params.id })`. The id is always pseudonymised by core.
   */
  resource: ResourceRef | ((req: Req) => ResourceRef | undefined)
  /** ECS `event.type`; default from the action's verb (read -> access, update -> change, ...). */
  type?: EventType
  /** ECS `event.category`; default `database` (or `iam` for users, roles ...). */
  category?: EventCategory | EventCategory[]
  /** Why the access happened (treatment, payment, operations ...), or a function of the request. */
  purpose?: string | ((req: Req) => string | undefined)
}
