import { describe, expect, it } from 'vitest'
import { Enforcement } from './enforcement'
import type { StateChange } from './records'

function enforcement() {
  const recorded: StateChange[] = []
  const shared: StateChange[] = []
  const e = new Enforcement({
    record: (c) => recorded.push(c),
    share: (c) => shared.push(c),
    phiRoutes: undefined,
    openRoutes: (p) => p === '/health',
    recordId: (id) => id,
  })
  return { e, recorded, shared }
}

describe('Enforcement shared between replicas', () => {
  it('announces its own changes, never the ones it applies from other replicas', () => {
    const { e, recorded, shared } = enforcement()
    e.block('u1', 60, 'rule:breadth', 'too many', false)
    e.applyShared([{ state: 'blocked', actor: 'u2', until: Date.now() + 60_000, by: 'operator' }])
    e.applyShared([{ state: 'scram-started', by: 'signal:SIGUSR2' }])
    expect(shared.map((c) => [c.state, 'actor' in c ? c.actor : '-'])).toEqual([['blocked', 'u1']])
    expect(recorded.map((c) => c.by)).toEqual(['rule:breadth', 'replica:operator', 'replica:signal:SIGUSR2'])
    expect(e.verdict('u2', '/x')).toBe(503)
    expect(e.verdict('u2', '/health')).toBe(403)
  })

  it('a snapshot lifts what it lacks, except what changed here after the snapshot was asked for', () => {
    const { e, recorded } = enforcement()
    e.block('old', 60, 'operator', undefined, true)
    e.scram('operator', undefined, true)
    const since = performance.now()
    e.block('new', 60, 'operator', undefined, true)
    // Read before 'new' was blocked here: it lacks 'new' (kept) and 'old' and the scram (lifted
    // elsewhere), and brings 'far' (blocked elsewhere).
    e.applyShared([{ state: 'blocked', actor: 'far', until: Date.now() + 60_000, by: 'operator' }], since)
    expect(
      e
        .blocked()
        .map((b) => b.actor)
        .sort(),
    ).toEqual(['far', 'new'])
    expect(e.scrammed).toBe(false)
    expect(recorded.slice(3).map((c) => [c.state, 'actor' in c ? c.actor : '-', c.by])).toEqual([
      ['blocked', 'far', 'replica:operator'],
      ['unblocked', 'old', 'replica'],
      ['scram-ended', '-', 'replica'],
    ])
    // An announcement that overtook the snapshot is not undone by it.
    const before = performance.now()
    e.applyShared([{ state: 'unblocked', actor: 'far', by: 'operator' }])
    e.applyShared([{ state: 'blocked', actor: 'far', until: Date.now() + 60_000, by: 'operator' }], before)
    expect(e.isBlocked('far')).toBe(false)
    // Expired and malformed-in-time blocks are not applied.
    e.applyShared([{ state: 'blocked', actor: 'gone', until: Date.now() - 1, by: 'operator' }])
    expect(e.isBlocked('gone')).toBe(false)
    e.stop()
  })
})
