// Privacy monitor enforcement through the Nest module, on a real HTTP server. The actor is set by
// the app's global auth guard, so the block is enforced after the guards (the interceptor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIT_LOGGER, type AuditLogger, BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, startApp, type TestApp } from './app'

describe('privacy monitor on Nest', () => {
  const lines: string[] = []
  let t: TestApp
  let audit: AuditLogger
  beforeAll(async () => {
    t = await startApp(
      BoundaryAuditModule.forRoot(
        captureOptions(lines, {
          monitor: { breadth: { threshold: 3, windowSeconds: 600 }, enforcement: { block: ['breadth'] } },
        }),
      ),
      lines,
    )
    audit = t.app.get(AUDIT_LOGGER)
  })
  afterAll(async () => {
    await t?.close()
  })

  const get = async (path: string, user?: string) => {
    const res = await fetch(`${t.url}${path}`, {
      headers: user ? { authorization: `Bearer ${user}:clinician` } : {},
    })
    await res.arrayBuffer()
    return res.status
  }

  it('a bulk read trips breadth, the actor gets 403 before the handler; others go on', async () => {
    for (let i = 0; i < 4; i++) expect(await get(`/patients/MRN-0000010${i}`, 'dr-bulk')).toBe(200)
    expect(audit.monitor.isBlocked('dr-bulk')).toBe(true)
    expect(await get('/patients/MRN-00000200', 'dr-bulk')).toBe(403)
    expect(await get('/patients/MRN-00000200', 'dr-other')).toBe(200)
    const reads = byAction(t.events(), 'patient-record-read').filter((e) => e.user?.id === 'dr-bulk')
    expect(reads).toHaveLength(4)
    const alert = t.events().find((e) => e.event.kind === 'alert')
    expect(alert).toMatchObject({ rule: { name: 'breadth' }, user: { id: 'dr-bulk' } })
    expect(alert?.audit.monitor.enforcement).toEqual(['block'])
    const refused = byAction(t.events(), 'http-request').find((e) => e.http.response.status_code === 403)
    expect(refused?.event.reason).toMatch(/blocked by the privacy monitor/)
    audit.monitor.unblock('dr-bulk')
    expect(await get('/patients/MRN-00000200', 'dr-bulk')).toBe(200)
  })

  it('scram: 503 on PHI routes until unscram', async () => {
    audit.monitor.scram({ reason: 'drill' })
    expect(await get('/patients/MRN-00000300', 'dr-other')).toBe(503)
    expect(await get('/health')).toBe(503)
    audit.monitor.unscram({ reason: 'drill over' })
    expect(await get('/patients/MRN-00000300', 'dr-other')).toBe(200)
    const states = t.events().filter((e) => e.event.action?.startsWith('monitor-scram'))
    expect(states.map((e) => e.event.action)).toEqual(['monitor-scram-started', 'monitor-scram-ended'])
  })
})
