import { httpExchangeOf } from '@boundary-audit/core/adapter'
import {
  type CallHandler,
  type ExecutionContext,
  ForbiddenException,
  type NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common'
import { type Observable, tap } from 'rxjs'
import { markAccessHandled, writeAccess } from './access'
import { auditLoggerOf } from './handler-guard'
import { type AccessSpec, handlerInfo } from './handler-info'
import type { AuditRequest } from './types'

/**
 * The interceptor `@Audit` puts on its handler (or controller): writes the handler's access event,
 * success when it completes, failure with the error it or a pipe threw. Only on `@Audit` handlers:
 * an interceptor costs Nest an Observable pipeline per request. It runs inside the app's own
 * global and controller interceptors. The logger is the one of the module whose guard saw the
 * request (one class may serve several apps in a process, each with its own module).
 */
export class AuditAccessInterceptor implements NestInterceptor {
  constructor(private readonly spec: AccessSpec) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle()
    const spec = this.spec
    let req: AuditRequest | undefined
    let logger: ReturnType<typeof auditLoggerOf>
    try {
      // A controller's @Audit gives way to the handler's own: only the spec in force writes.
      if (handlerInfo(context.getHandler(), context.getClass()).spec !== spec) return next.handle()
      req = context.getArgByIndex<AuditRequest>(0) // switchToHttp().getRequest(), without its closures
      logger = req ? auditLoggerOf(req) : undefined
      if (!req || !logger) return next.handle()
      markAccessHandled(req)
    } catch {
      return next.handle()
    }
    // Privacy monitor, after every guard (the actor is authenticated by now): a blocked actor gets
    // 403 and a scram 503 before the handler runs, whatever the handler's path (it reaches records of
    // individuals). Thrown as Nest exceptions so filters answer.
    const verdict = httpExchangeOf(req)?.enforce(true) ?? 0
    if (verdict === 403) throw new ForbiddenException()
    if (verdict === 503) throw new ServiceUnavailableException()
    const request = req
    const audit = logger
    let settled = false
    const settle = (outcome: 'success' | 'failure' | 'unknown', error?: unknown, reason?: string) => {
      if (settled) return
      settled = true
      writeAccess(audit, spec, request, outcome, error, reason)
    }
    return next.handle().pipe(
      tap({
        complete: () => settle('success'),
        error: (error: unknown) => {
          httpExchangeOf(request)?.setError(error)
          settle('failure', error)
        },
        // Unsubscribed before completing: the client went away from a streaming response.
        finalize: () =>
          settle('unknown', undefined, 'aborted: the response was cancelled before the handler completed'),
      }),
    )
  }
}
