import { describe, expect, it } from 'vitest'
import { randomRequestUuid } from './uuid'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('randomRequestUuid', () => {
  it('gives version 4 UUIDs, all different, across batch refills', () => {
    const ids = Array.from({ length: 1000 }, () => randomRequestUuid())
    for (const id of ids) expect(id).toMatch(UUID_V4)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('uses every hex digit (the random part is not stuck)', () => {
    const seen = new Set(
      Array.from({ length: 300 }, () => randomRequestUuid())
        .join('')
        .replace(/-/g, ''),
    )
    expect(seen.size).toBe(16)
  })
})
