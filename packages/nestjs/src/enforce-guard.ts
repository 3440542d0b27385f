import { httpExchangeOf } from '@boundary-audit/core/adapter'
import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  ServiceUnavailableException,
} from '@nestjs/common'
import { markAccessHandled } from './access'
import { handlerInfo } from './handler-info'
import type { AuditRequest } from './types'

/**
 * Privacy monitor, after the application's global guards (the module moves this one to the end of
 * them; see `placeGlobalEnhancers`): an actor the app's global auth guard has just authenticated
 * gets 403 when blocked, and a scram 503 before the handler runs (thrown as Nest exceptions so
 * filters answer). A handler marked `@Audit` accesses records of individuals: a scram refuses it
 * whatever its path, and its interceptor checks again after controller and method guards.
 */
export class AuditEnforceGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true
    let verdict: 0 | 403 | 503 = 0
    try {
      const req = context.getArgByIndex<AuditRequest>(0) // switchToHttp().getRequest(), without its closures
      const exchange = req ? httpExchangeOf(req) : undefined
      const spec = handlerInfo(context.getHandler(), context.getClass()).spec
      if (exchange) verdict = exchange.enforce(spec !== undefined)
      // A refused read is no access: the handler guard's fallback must not write one for it.
      if (verdict !== 0 && spec !== undefined) markAccessHandled(req)
    } catch {
      // Auditing must not break the request.
    }
    if (verdict === 403) throw new ForbiddenException()
    if (verdict === 503) throw new ServiceUnavailableException()
    return true
  }
}
