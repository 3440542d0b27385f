import { describe, expect, it } from 'vitest'
import { StatedIds } from './stated-ids'

describe('StatedIds', () => {
  it('keeps an id for at least max and at most 2 * max later ids', () => {
    const max = 8
    for (let later = 0; later < 3 * max; later++) {
      const ids = new StatedIds(max)
      ids.set('x', 's')
      for (let i = 0; i < later; i++) ids.set(`o${i}`, 's')
      const held = ids.get('x') !== undefined
      if (later < max) expect(held, `after ${later} later ids`).toBe(true)
      if (later >= 2 * max) expect(held, `after ${later} later ids`).toBe(false)
      expect(ids.size).toBeLessThanOrEqual(2 * max)
    }
  })

  it('the latest naming wins, and a deleted id is gone from both generations', () => {
    const ids = new StatedIds(4)
    ids.set('r', 'pod-1')
    for (let i = 0; i < 3; i++) ids.set(`o${i}`, 'pod-1') // 'r' ages into the old generation
    ids.set('r', 'pod-2') // named again, by another stream, in the young one
    expect(ids.get('r')).toBe('pod-2')
    ids.delete('r')
    // the aged naming must not state a later request with the same id
    expect(ids.get('r')).toBeUndefined()
  })

  it('ids deleted as their records come leave room: the live ids decide when a generation ages', () => {
    const ids = new StatedIds(4)
    ids.set('keep', 's')
    for (let i = 0; i < 1_000; i++) {
      ids.set(`r${i}`, 's')
      ids.delete(`r${i}`)
    }
    expect(ids.get('keep')).toBe('s')
    expect(ids.size).toBe(1)
  })
})
