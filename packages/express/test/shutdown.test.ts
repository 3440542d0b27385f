/**
 * Shutdown under load, with a real server in a child process: clients keep sending while it gets
 * SIGTERM, with a request in flight. Every 2xx response has its event in the trail; every other
 * response is a 503 with Retry-After (refused once the logger began closing); the trail verifies
 * and is closed. With the app's own handler (`await audit.close()`) and without one.
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

describe.each(['signal', 'close'])('express shutdown under load (%s)', (mode) => {
  it('every 2xx response has its event, the rest are 503 with Retry-After, the trail is closed', async () => {
    const run = await shutdownUnderLoad({
      fixture: join(here, 'fixtures', 'shutdown-app.mjs'),
      execArgv: [],
      env: { MODE: mode },
    })
    if (mode === 'signal') expect(run.signal).toBe('SIGTERM')
    else expect(run.code).toBe(0)
    const events = eventsByRequestId(run.lines)
    const ok = run.responses.filter((r) => r.status >= 200 && r.status < 300)
    const other = run.responses.filter((r) => r.status < 200 || r.status >= 300)
    expect(ok.length).toBeGreaterThanOrEqual(200)
    const missing = ok.filter((r) => events.get(r.id) !== r.status)
    expect(missing.map((r) => r.id)).toEqual([])
    // The request in flight when the signal came was waited for, and recorded.
    expect(run.responses.find((r) => r.id === 'slow-1')?.status).toBe(200)
    expect(events.get('slow-1')).toBe(200)
    // Meanwhile (the logger waited for it) the clients were refused.
    expect(other.length).toBeGreaterThan(0)
    for (const r of other) expect([r.status, r.retryAfter]).toEqual([503, '5'])
    const closing = JSON.parse(run.lines.at(-1)!)
    expect(closing.event.action).toBe('audit-stream-end')
    const verified = await verifyTrail(run.lines)
    expect(verified.out).toMatch(/intact/)
    expect(verified.code).toBe(0)
  }, 60_000)
})
