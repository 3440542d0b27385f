import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HttpAuditOptions } from '@boundary-audit/core'

/**
 * The request as the options see it: a Node request plus whatever Express and auth middleware
 * attach (`ip`, `user`, `auth`, `session` ...). Loosely typed on purpose so the package works with
 * the typings of Express 4 and 5 and of any auth library without depending on them.
 */
export interface AuditRequest extends IncomingMessage {
  [key: string]: any
}

/** Connect/Express middleware shape, assignable to `app.use()` of Express 4 and 5. */
export type AuditRequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void

/** Express error-handling middleware shape (four parameters). */
export type AuditErrorRequestHandler = (
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void

/** Options of `auditMiddleware()`. All optional. */
export interface ExpressAuditOptions extends HttpAuditOptions<AuditRequest> {}
