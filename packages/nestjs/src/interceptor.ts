import { httpExchangeOf } from '@boundary-audit/core/adapter'
import {
  type CallHandler,
  type ExecutionContext,
  ForbiddenException,
  type NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common'
import type { Reflector } from '@nestjs/core'
import { type Observable, tap } from 'rxjs'
import { markAccessHandled, writeAccess } from './access'
import { type AccessSpec, AUDIT_ACCESS_METADATA } from './audit-decorator'
import type { AuditRuntime } from './runtime'
import type { AuditRequest } from './types'

/**
 * A global interceptor: records the error a handler or pipe failed with on the request's
 * `http-request` event (exception filters turn it into a response afterwards, so the event would
 * otherwise only see the status), and writes the access event of `@Audit` handlers.
 */
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly runtime: AuditRuntime,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle()
    let req: AuditRequest | undefined
    let spec: AccessSpec | undefined
    try {
      req = context.switchToHttp().getRequest<AuditRequest>()
      spec = this.reflector.getAllAndOverride<AccessSpec | undefined>(AUDIT_ACCESS_METADATA, [
        context.getHandler(),
        context.getClass(),
      ])
      if (spec && req) markAccessHandled(req)
    } catch {
      return next.handle()
    }
    // Privacy monitor, after every guard (the actor is authenticated by now): a blocked actor gets
    // 403 and a scram 503 before the handler runs. Thrown as Nest exceptions so filters answer. A
    // handler marked @Audit accesses records of individuals: a scram refuses it whatever its path.
    const verdict = req ? (httpExchangeOf(req)?.enforce(spec !== undefined) ?? 0) : 0
    if (verdict === 403) throw new ForbiddenException()
    if (verdict === 503) throw new ServiceUnavailableException()
    const { logger } = this.runtime
    let settled = false
    const settle = (outcome: 'success' | 'failure' | 'unknown', error?: unknown, reason?: string) => {
      if (settled) return
      settled = true
      if (spec && req) writeAccess(logger, spec, req, outcome, error, reason)
    }
    return next.handle().pipe(
      tap({
        complete: () => settle('success'),
        error: (error: unknown) => {
          if (req) httpExchangeOf(req)?.setError(error)
          settle('failure', error)
        },
        // Unsubscribed before completing: the client went away from a streaming response.
        finalize: () =>
          settle('unknown', undefined, 'aborted: the response was cancelled before the handler completed'),
      }),
    )
  }
}
