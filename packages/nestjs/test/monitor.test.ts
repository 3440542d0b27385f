// Privacy monitor enforcement through the Nest module, on a real HTTP server. The actor is set by
// the app's global auth guard, so the block is enforced after the guards (the interceptor). The
// replicas' test shares counts and enforcement through the real Redis at 127.0.0.1:6379.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../scripts/redis.mjs'
import { AUDIT_LOGGER, type AuditLogger, BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, startApp, type TestApp, until } from './app'

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
    // A route without @Audit too: refused after the app's global auth guard set the actor.
    expect(await get('/patients/MRN-00000200/crash', 'dr-bulk')).toBe(403)
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

  it('scram: 503 on PHI routes until unscram; the health route keeps answering', async () => {
    audit.monitor.scram({ reason: 'drill' })
    expect(await get('/patients/MRN-00000300', 'dr-other')).toBe(503)
    expect(await get('/public/A1')).toBe(503)
    expect(await get('/health')).toBe(200)
    audit.monitor.unscram({ reason: 'drill over' })
    expect(await get('/patients/MRN-00000300', 'dr-other')).toBe(200)
    const states = t.events().filter((e) => e.event.action?.startsWith('monitor-scram'))
    expect(states.map((e) => e.event.action)).toEqual(['monitor-scram-started', 'monitor-scram-ended'])
  })
})

describe('privacy monitor on Nest: PHI routes', () => {
  it('listed phiRoutes narrow a scram, and a handler marked @Audit is refused whatever the list says', async () => {
    const lines: string[] = []
    const t = await startApp(
      BoundaryAuditModule.forRoot(
        captureOptions(lines, { monitor: { breadth: false, enforcement: { phiRoutes: ['/charts/*'] } } }),
      ),
      lines,
    )
    const get = async (path: string) => {
      const res = await fetch(`${t.url}${path}`, { headers: { authorization: 'Bearer dr-a:clinician' } })
      await res.arrayBuffer()
      return res.status
    }
    try {
      const audit: AuditLogger = t.app.get(AUDIT_LOGGER)
      audit.monitor.scram()
      expect(await get('/patients/MRN-00000400')).toBe(503)
      expect(await get('/public/A1')).toBe(200)
      expect(await get('/health')).toBe(200)
      // Refused after the guards: no access event was written for the refused read.
      expect(byAction(t.events(), 'patient-record-read')).toHaveLength(0)
      audit.monitor.unscram()
      expect(await get('/patients/MRN-00000400')).toBe(200)
    } finally {
      await t.close()
    }
  })
})

describe('privacy monitor on two Nest replicas sharing Redis', () => {
  const redis = testRedis()
  afterAll(() => redis.cleanup())

  it('breadth counted over both replicas blocks the actor on both; a scram on one refuses on both', async () => {
    const monitor = {
      breadth: { threshold: 3, windowSeconds: 600 },
      enforcement: { block: ['breadth'] },
      redis: { url: redis.url, keyPrefix: redis.prefix },
    }
    const la: string[] = []
    const lb: string[] = []
    const a = await startApp(BoundaryAuditModule.forRoot(captureOptions(la, { monitor })), la)
    const b = await startApp(BoundaryAuditModule.forRoot(captureOptions(lb, { monitor })), lb)
    const audits: AuditLogger[] = [a.app.get(AUDIT_LOGGER), b.app.get(AUDIT_LOGGER)]
    const get = async (t: TestApp, path: string, user: string) => {
      const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${user}:clinician` } })
      await res.arrayBuffer()
      return res.status
    }
    try {
      await until(() => audits.every((x) => x.monitor.stats().store === 'redis'), 'both connected to Redis')
      expect(await get(a, '/patients/MRN-00000501', 'dr-roam')).toBe(200)
      expect(await get(b, '/patients/MRN-00000502', 'dr-roam')).toBe(200)
      expect(await get(a, '/patients/MRN-00000503', 'dr-roam')).toBe(200)
      expect(await get(b, '/patients/MRN-00000504', 'dr-roam')).toBe(200)
      await until(() => audits.every((x) => x.monitor.isBlocked('dr-roam')), 'the block on both replicas')
      expect(await get(a, '/patients/MRN-00000505', 'dr-roam')).toBe(403)
      expect(await get(b, '/patients/MRN-00000505', 'dr-roam')).toBe(403)
      expect(await get(b, '/patients/MRN-00000505', 'dr-other')).toBe(200)
      const alerts = [...a.events(), ...b.events()].filter((e) => e.event.kind === 'alert')
      expect(alerts.map((e) => [e.rule.name, e.user.id])).toEqual([['breadth', 'dr-roam']])
      audits[0]!.monitor.scram({ reason: 'drill' })
      await until(() => audits[1]!.monitor.scrammed, 'the scram on the other replica')
      expect(await get(b, '/patients/MRN-00000506', 'dr-other')).toBe(503)
      expect(await get(b, '/health', 'dr-other')).toBe(200)
      audits[1]!.monitor.unscram()
      await until(() => !audits[0]!.monitor.scrammed, 'the end of the scram on the first replica')
    } finally {
      await a.close()
      await b.close()
    }
  })
})
