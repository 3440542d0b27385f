import { describe, expect, it } from 'vitest'
import { SeqRing } from './seq-ring'

describe('SeqRing', () => {
  it('holds the last `size` seqs, whatever order they were written in', () => {
    const r = new SeqRing<string>(64)
    for (let s = 0; s < 200; s++) r.set(s, `v${s}`)
    for (let s = 0; s < 136; s++) expect(r.get(s)).toBeUndefined()
    for (let s = 136; s < 200; s++) expect(r.get(s)).toBe(`v${s}`)
    // A seq written late, still within the last `size`: kept; one older: not, and it evicts nothing.
    const late = new SeqRing<string>(64)
    for (const s of [100, 130, 110, 3, 131]) late.set(s, `v${s}`)
    expect(late.get(110)).toBe('v110')
    expect(late.get(3)).toBeUndefined()
    expect(late.get(100)).toBe('v100')
    expect(late.get(131)).toBe('v131')
    // Set again: the newer value.
    late.set(131, 'again')
    expect(late.get(131)).toBe('again')
  })

  it('grows while the seqs outgrow it, keeping what it held, up to `size`', () => {
    const r = new SeqRing<number>(1024)
    for (let s = 0; s < 1024; s += 3) r.set(s, s * 2)
    for (let s = 0; s < 1024; s++) expect(r.get(s)).toBe(s % 3 === 0 ? s * 2 : undefined)
    r.set(5000, 1)
    expect(r.get(5000)).toBe(1)
    expect(r.get(3000)).toBeUndefined()
    expect(r.get(4000)).toBeUndefined()
  })

  it('seqs far beyond 2^31 map to slots as well; nothing is held at a seq never written', () => {
    const r = new SeqRing<number>(64)
    const big = 2 ** 40 + 5
    r.set(big, 1)
    expect(r.get(big)).toBe(1)
    expect(r.get(big - 64)).toBeUndefined()
    expect(new SeqRing<number>(64).get(-1)).toBeUndefined()
    expect(new SeqRing<number>(64).get(0)).toBeUndefined()
  })
})
