import { describe, expect, it } from 'vitest'
import { randomUuid } from './uuid'

describe('randomUuid', () => {
  it('gives random version 4 UUIDs, none repeated across batches', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const id = randomUuid()
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      seen.add(id)
    }
    expect(seen.size).toBe(1000)
  })

  it('uses every hex digit in every free position', () => {
    // 128 bits minus the 6 fixed ones: over 2000 ids each free position should take all 16 digits.
    const digits = Array.from({ length: 36 }, () => new Set<string>())
    for (let i = 0; i < 2000; i++) {
      const id = randomUuid()
      for (let j = 0; j < 36; j++) digits[j]!.add(id[j]!)
    }
    const sizes = digits.map((d) => d.size)
    for (const j of [8, 13, 18, 23]) expect(sizes[j]).toBe(1) // dashes
    expect(sizes[14]).toBe(1) // version
    expect(sizes[19]).toBe(4) // variant: 8, 9, a, b
    for (let j = 0; j < 36; j++) if (![8, 13, 14, 18, 19, 23].includes(j)) expect(sizes[j]).toBe(16)
  })
})
