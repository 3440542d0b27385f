import { describe, expect, it } from 'vitest'
import { CountWindow, DistinctWindow, monotonic } from './window'

describe('sliding windows', () => {
  it('DistinctWindow counts distinct individuals in (t - W, t], capped at N + 1', () => {
    const w = new DistinctWindow(1000, 3)
    expect(w.add('a', 0)).toBe(1)
    expect(w.add('a', 10)).toBe(1)
    expect(w.add('b', 500)).toBe(2)
    expect(w.add('c', 900)).toBe(3)
    expect(w.add('d', 950)).toBe(3) // capped: more than 2 is all the rule needs to know
    // At 1010, 'a' (last seen at 10) is out: exactly W later is outside the window.
    expect(w.count(1010)).toBe(3)
    expect(w.count(1500)).toBe(2)
    expect(w.count(5000)).toBe(0)
  })

  it('CountWindow counts records in (t - W, t], keeping at most cap timestamps', () => {
    const w = new CountWindow(100, 2)
    expect(w.add(0)).toBe(1)
    expect(w.add(50)).toBe(2)
    expect(w.add(60)).toBe(2)
    expect(w.count(150)).toBe(1)
    expect(w.count(160)).toBe(0)
    for (let i = 0; i < 1000; i++) w.add(200 + i)
    expect(w.count(1199)).toBe(2)
  })

  it('monotonic never goes backwards', () => {
    const clock = monotonic()
    expect(clock(10)).toBe(10)
    expect(clock(5)).toBe(10)
    expect(clock(11)).toBe(11)
  })
})
