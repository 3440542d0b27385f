// The module's place among the app's own enhancers: no global interceptor of ours, so the error an
// app filter answers is noted by our filter (consulted before the app's global filters, never
// handling anything), and an @Audit read answered by an app interceptor without the handler is
// still on record.
import {
  type ArgumentsHost,
  type CallHandler,
  Catch,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common'
import { of } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, startApp, type TestApp, until, untilHttpEvents } from './app'

/** An app's catch-all filter, registered with useGlobalFilters after the module's own. */
@Catch()
class TeapotFilter implements ExceptionFilter {
  catch(_exception: unknown, host: ArgumentsHost): void {
    host.switchToHttp().getResponse().status(418).json({ teapot: true })
  }
}

/** An app's cache: answers GET /patients/cached-7 itself, without calling the handler. */
class CacheInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler) {
    const req = context.switchToHttp().getRequest()
    return req.params.id === 'cached-7' ? of({ cached: true }) : next.handle()
  }
}

const apps: TestApp[] = []
afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close()
})

const clinician = { authorization: 'Bearer dr-who:clinician' }

describe('the module among the app enhancers', () => {
  it("an app's catch-all global filter still answers; the event has the error it answered", async () => {
    const lines: string[] = []
    const t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines, [], (app) =>
      app.useGlobalFilters(new TeapotFilter()),
    )
    apps.push(t)
    const crash = await fetch(`${t.url}/patients/42/crash`, { headers: clinician })
    expect(crash.status).toBe(418)
    expect(await crash.json()).toEqual({ teapot: true })
    // Rejected by the app's global auth guard (no token): the guard's exception is noted too.
    const anonymous = await fetch(`${t.url}/patients/42`)
    expect(anonymous.status).toBe(418)
    await untilHttpEvents(lines, 2)
    const [first, second] = byAction(t.events(), 'http-request')
    expect(first!.http.response.status_code).toBe(418)
    expect(first!.error.type).toBe('Error')
    expect(first!.event.outcome).toBe('failure')
    expect(second!.error.type).toBe('UnauthorizedException')
    expect(second!.audit.handler).toEqual({ controller: 'PatientsController', name: 'findOne' })
  })

  it('no route matched: the 404 carries no error (its message is the raw path)', async () => {
    const lines: string[] = []
    const t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines)
    apps.push(t)
    const res = await fetch(`${t.url}/nowhere/MRN-123`, { headers: clinician })
    expect(res.status).toBe(404)
    await untilHttpEvents(lines, 1)
    const [event] = byAction(t.events(), 'http-request')
    expect(event!.http.response.status_code).toBe(404)
    expect(event!.error).toBeUndefined()
  })

  it('an @Audit read an app interceptor answers without the handler is still on record', async () => {
    const lines: string[] = []
    const t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines, [], (app) =>
      app.useGlobalInterceptors(new CacheInterceptor()),
    )
    apps.push(t)
    const res = await fetch(`${t.url}/patients/cached-7`, { headers: clinician })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ cached: true })
    await until(() => byAction(t.events(), 'patient-record-read').length === 1, 'the access event')
    const [read] = byAction(t.events(), 'patient-record-read')
    expect(read!.event.outcome).toBe('success')
    expect(read!.event.reason).toBe('answered before the handler ran (HTTP 200)')
  })
})
