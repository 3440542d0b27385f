// What the demo's scripted bulk read (step 4b) must leave, whichever clinic ran it: the breadth
// alert, the block of the same account, its next request refused (403), all in the verified chain.
import { expect } from 'vitest'

export function expectBulkReadBlocked(events: any[], stdout: string): void {
  const alert = events.find((e) => e.event.kind === 'alert')
  expect(alert).toMatchObject({ event: { action: 'access-anomaly' }, rule: { name: 'breadth' } })
  expect(alert.audit.monitor).toMatchObject({ count: 3, threshold: 2, enforcement: ['block'] })
  const block = events.find((e) => e.event.action === 'monitor-actor-blocked')
  expect(block.audit.monitor.actor).toBe(alert.user.id)
  const refused = events.filter(
    (e) => e.event.action === 'http-request' && e.http.response.status_code === 403,
  )
  expect(refused.some((e) => e.user.id === alert.user.id && /blocked/.test(e.event.reason))).toBe(true)
  expect(stdout).toMatch(/sealed in this verified chain/)
}
