import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, startApp, type TestApp, untilHttpEvents } from './app'

describe('concurrent requests with distinct actors', () => {
  const lines: string[] = []
  let t: TestApp
  beforeAll(async () => {
    t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines)
  })
  afterAll(async () => {
    await t?.close()
  })

  it('keeps each request’s actor and request id on its own events (150 in flight)', async () => {
    const N = 150
    const statuses = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await fetch(`${t.url}/patients/${1000 + i}`, {
          headers: { authorization: `Bearer user-${i}:clinician`, 'x-request-id': `conc-${i}` },
        })
        await res.arrayBuffer()
        return res.status
      }),
    )
    expect(statuses.every((s) => s === 200)).toBe(true)
    await untilHttpEvents(lines, N, (id) => id.startsWith('conc-'))

    const events = t.events()
    for (let i = 0; i < N; i++) {
      const mine = events.filter((e) => e.http?.request?.id === `conc-${i}`)
      // One http-request, one access (from @Audit), one db-query (from the service, via the context).
      const http = byAction(mine, 'http-request')
      const access = byAction(mine, 'patient-record-read')
      const db = byAction(mine, 'db-query')
      expect([http.length, access.length, db.length], `request ${i}`).toEqual([1, 1, 1])
      for (const e of [...http, ...access, ...db]) expect(e.user?.id, `request ${i}`).toBe(`user-${i}`)
    }
    // Nothing written outside a request's context.
    expect(byAction(events, 'db-query').every((e) => typeof e.http?.request?.id === 'string')).toBe(true)
  })
})
