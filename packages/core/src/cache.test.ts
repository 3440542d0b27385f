import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BoundedCache } from './cache'

describe('BoundedCache', () => {
  it('gives back what was set, and knows what was added', () => {
    const c = new BoundedCache<number>(64, 32)
    expect(c.get('a')).toBeUndefined()
    c.set('a', 1)
    c.add('b')
    expect(c.get('a')).toBe(1)
    expect(c.has('a')).toBe(true)
    expect(c.has('b')).toBe(true)
    expect(c.get('b')).toBeUndefined() // added as a member, with no value
    expect(c.has('c')).toBe(false)
  })

  it('never keeps the empty string or a key longer than its limit', () => {
    const c = new BoundedCache<number>(64, 4)
    c.set('', 1)
    c.set('12345', 2)
    c.add('abcde')
    expect(c.get('')).toBeUndefined()
    expect(c.get('12345')).toBeUndefined()
    expect(c.has('abcde')).toBe(false)
    expect(c.slot('12345')).toBe(-1)
    expect(c.keptKeys()).toEqual([])
  })

  it('a key takes its slot from the key that was there, and only from that one', () => {
    const c = new BoundedCache<string>(8, 64)
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`)
    const first = keys[0]!
    const rival = keys.find((k) => k !== first && c.slot(k) === c.slot(first))!
    const others = keys.filter((k) => c.slot(k) !== c.slot(first))
    c.set(first, 'first')
    for (const k of others) c.set(k, k)
    expect(c.get(first)).toBe('first')
    c.set(rival, 'rival')
    expect(c.get(first)).toBeUndefined()
    expect(c.get(rival)).toBe('rival')
  })

  it('holds at most one key per slot, whatever is put in', () => {
    const c = new BoundedCache<number>(16, 64)
    for (let i = 0; i < 10_000; i++) c.set(`k${i * 7919}`, i)
    expect(c.keptKeys().length).toBeLessThanOrEqual(16)
  })

  it('spreads a service vocabulary: most of 100 key names in 2048 slots have a slot of their own', () => {
    // Names that differ only away from the first, middle and last character share a slot (patientid,
    // patientId): they take turns missing, which costs time, never a wrong answer.
    const words = ['patient', 'user', 'request', 'record', 'visit', 'order', 'note', 'ward', 'lab', 'claim']
    const parts = ['id', 'Id', '_id', 'Name', 'Type', 'Status', 'At', 'By', 'Count', 'Code']
    const names = words.flatMap((w) => parts.map((p) => `${w}${p}`))
    const c = new BoundedCache(2048, 64)
    expect(new Set(names.map((n) => c.slot(n))).size).toBeGreaterThanOrEqual(60)
  })

  it('never gives a wrong answer: a hit is the value last set for that very key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 12 }), fc.integer()), { maxLength: 200 }),
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 50 }),
        (writes, reads) => {
          const c = new BoundedCache<number>(8, 10)
          const last = new Map<string, number>()
          for (const [k, v] of writes) {
            c.set(k, v)
            last.set(k, v)
          }
          for (const k of [...reads, ...last.keys()]) {
            const got = c.get(k)
            if (got !== undefined) expect(got).toBe(last.get(k))
          }
        },
      ),
    )
  })

  it('refuses a slot count that is not a power of two', () => {
    expect(() => new BoundedCache(100, 8)).toThrow(/power of two; got 100/)
  })
})
