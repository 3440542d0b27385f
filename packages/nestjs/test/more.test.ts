import { Controller, Get, Inject, Module, Param, VersioningType } from '@nestjs/common'
import { afterEach, describe, expect, it } from 'vitest'
import { AUDIT_LOGGER, Audit, type AuditLogger, BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, pseudonymOf, startApp, type TestApp, until, untilHttpEvents } from './app'

@Controller({ path: 'encounters', version: '2' })
@Audit('encounter-read', {
  resource: (req) => ({ type: 'encounter', id: req.params.eid }),
  purpose: 'treatment',
})
class EncountersController {
  constructor(@Inject(AUDIT_LOGGER) private readonly audit: AuditLogger) {}

  @Get(':eid')
  findOne(@Param('eid') eid: string) {
    return { eid }
  }

  /** Switches the actor mid-request, as a login or impersonation endpoint would. */
  @Get(':eid/as-delegate')
  asDelegate(@Param('eid') eid: string) {
    this.audit.setActor({ id: 'delegate-7', effective: { id: 'dr-who' } })
    this.audit.event({ action: 'delegation-used', category: 'iam', type: 'info', outcome: 'success' })
    return { eid }
  }
}

@Module({ controllers: [EncountersController] })
class EncountersModule {}

const apps: TestApp[] = []
afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close()
})

describe('prefixes, versions, class-level @Audit, trace context', () => {
  it('reports the full route template under a global prefix and URI versioning', async () => {
    const lines: string[] = []
    const t = await startApp(
      BoundaryAuditModule.forRoot(captureOptions(lines)),
      lines,
      [EncountersModule],
      (app) => {
        app.setGlobalPrefix('api')
        app.enableVersioning({ type: VersioningType.URI })
      },
    )
    apps.push(t)
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const res = await fetch(`${t.url}/api/v2/encounters/E-99`, {
      headers: { authorization: 'Bearer dr-who:clinician', traceparent },
    })
    expect(res.status).toBe(200)
    // Outside the prefix: no module middleware runs there, the server hook still records it.
    const outside = await fetch(`${t.url}/elsewhere`)
    expect(outside.status).toBe(404)
    await untilHttpEvents(lines, 2)
    const http = byAction(t.events(), 'http-request')
    expect(http).toHaveLength(2)
    expect(http[0]!.http.route).toBe('/api/v2/encounters/:eid')
    expect(http[0]!.url.path).toBe(`/api/v2/encounters/${pseudonymOf('E-99')}`)
    expect(http[0]!.audit.handler).toEqual({ controller: 'EncountersController', name: 'findOne' })
    expect(http[0]!.trace.id).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(http[1]!.url.path).toBe('/elsewhere')
    expect(http[1]!.http.response.status_code).toBe(404)

    const [access] = byAction(t.events(), 'encounter-read')
    expect(access!.audit.resource).toEqual({ type: 'encounter', id: pseudonymOf('E-99') })
    expect(access!.audit.purpose).toBe('treatment')
    expect(access!.trace.id).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
  })

  it('an actor set during the request is on the events written after it', async () => {
    const lines: string[] = []
    const t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines, [EncountersModule])
    apps.push(t)
    const res = await fetch(`${t.url}/encounters/E-1/as-delegate`, {
      headers: { authorization: 'Bearer dr-who:clinician' },
    })
    expect(res.status).toBe(200)
    await untilHttpEvents(lines, 1)
    const [used] = byAction(t.events(), 'delegation-used')
    expect(used!.user.id).toBe('delegate-7')
    const [http] = byAction(t.events(), 'http-request')
    expect(http!.user.id).toBe('delegate-7')
  })

  it('failClosed answers 503 while the sink is down', async () => {
    const lines: string[] = []
    let broken = false
    const t = await startApp(
      BoundaryAuditModule.forRoot({
        ...captureOptions(lines),
        failClosed: true,
        destination: {
          write: (l: string) => {
            if (broken) throw new Error('sink down')
            lines.push(l)
          },
        },
      }),
      lines,
    )
    apps.push(t)
    const logger = t.app.get<AuditLogger>(AUDIT_LOGGER)
    expect((await fetch(`${t.url}/public/1`)).status).toBe(200)
    broken = true
    logger.event({ action: 'probe', category: 'process', type: 'info' })
    await until(() => !logger.stats().healthy, 'the sink to report the failure')
    const res = await fetch(`${t.url}/public/2`)
    expect(res.status).toBe(503)
    expect(await res.text()).toBe('Service Unavailable')
  })
})
