import { currentHttpExchange } from '@boundary-audit/core/adapter'
import { Catch, type ExceptionFilter } from '@nestjs/common'
import { isRouted } from './exchange-state'

/**
 * Records the error a guard, pipe or handler failed with on the request's
 * `http-request` event, before an exception filter turns it into a response (the event would
 * otherwise only see the status). Without an interceptor on every route, which costs Nest an
 * Observable pipeline per request: Nest picks the filter for an exception by testing
 * `exception instanceof T` for the types each filter catches, in order, and this filter's one type
 * answers "no" after noting the error. So it never handles anything, and the filter that would have
 * handled the exception still does. The module makes it the first global filter Nest consults
 * (see `placeGlobalEnhancers`); an exception a controller's or handler's own filter catches is not
 * seen (the event still has the status).
 */
const NoteError = {
  [Symbol.hasInstance](error: unknown): boolean {
    try {
      // Nest selects filters synchronously where it caught the exception: inside the request's
      // context. Only once a route matched (what an interceptor used to see, and guards): Nest's
      // 404 for an unknown route says "Cannot GET <the url>", the raw path.
      const exchange = currentHttpExchange()
      if (isRouted(exchange)) exchange?.setError(error)
    } catch {
      // Never in the way of the app's error handling.
    }
    return false
  },
}

export class AuditErrorFilter implements ExceptionFilter {
  catch(): void {
    // Never selected (see NoteError).
  }
}
Catch(NoteError as never)(AuditErrorFilter)
