/**
 * Shutdown under load, with a real Nest server in a child process: clients keep sending while it
 * gets SIGTERM, with a request in flight. Every 2xx response has its event in the trail; every other
 * response is a 503 with Retry-After; the trail verifies and is closed. Without shutdown hooks (the
 * logger's own exit hook) and with Nest's (app.close() closes the server, then the module its logger).
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { eventsByRequestId, shutdownUnderLoad, verifyTrail } from '../../../scripts/shutdown-under-load'
import { builtOf } from '../../core/test/built'

const here = dirname(fileURLToPath(import.meta.url))
// The child imports the built packages (`npm test` builds first): refused when older than their src/.
builtOf(join(here, '..'), 'index.js')
builtOf(join(here, '..', '..', 'core'), 'index.js')

describe.each(['signal', 'hooks'])('nest shutdown under load (%s)', (mode) => {
  it('every 2xx response has its event, the rest are 503 with Retry-After, the trail is closed', async () => {
    const run = await shutdownUnderLoad({
      fixture: join(here, 'fixtures', 'shutdown-app.ts'),
      execArgv: ['--import', 'tsx'],
      env: { MODE: mode },
      cwd: join(here, '..'),
      keepAlive: mode === 'signal',
    })
    const events = eventsByRequestId(run.lines)
    const ok = run.responses.filter((r) => r.status >= 200 && r.status < 300)
    const other = run.responses.filter((r) => r.status < 200 || r.status >= 300)
    expect(ok.length).toBeGreaterThanOrEqual(200)
    expect(ok.filter((r) => events.get(r.id) !== r.status).map((r) => r.id)).toEqual([])
    expect(run.responses.find((r) => r.id === 'slow-1')?.status).toBe(200)
    expect(events.get('slow-1')).toBe(200)
    for (const r of other) expect([r.status, r.retryAfter]).toEqual([503, '5'])
    // Without hooks the server keeps accepting while the logger waits for the slow request: refused.
    // (With them Nest closes the server first: the clients' connections end instead.)
    if (mode === 'signal') {
      expect(run.signal).toBe('SIGTERM')
      expect(other.length).toBeGreaterThan(0)
    }
    expect(JSON.parse(run.lines.at(-1)!).event.action).toBe('audit-stream-end')
    const verified = await verifyTrail(run.lines)
    expect(verified.out).toMatch(/intact/)
    expect(verified.code).toBe(0)
  }, 60_000)
})
