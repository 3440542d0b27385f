import { describe, expect, it } from 'vitest'
import { BATCH_DELAY_MS, BATCH_MAX_DELAY_MS, createBatch } from './batch'

describe('createBatch', () => {
  it('hands a full batch over at once, in order, and starts empty again', () => {
    const handed: string[][] = []
    const batch = createBatch(10, () => handed.push(batch.take()))
    batch.add('abcd')
    batch.add('efgh')
    expect(handed).toEqual([])
    expect(batch.chars).toBe(8)
    batch.add('ij')
    expect(handed).toEqual([['abcd', 'efgh', 'ij']])
    expect(batch.chars).toBe(0)
    expect(batch.take()).toEqual([])
  })

  it('hands a small partial batch over after BATCH_MAX_DELAY_MS, not before, with one timer for many texts', async () => {
    let calls = 0
    const handed: string[][] = []
    const batch = createBatch(1000, () => {
      calls++
      handed.push(batch.take())
    })
    batch.add('a')
    batch.add('b')
    expect(handed).toEqual([])
    await new Promise((resolve) => setTimeout(resolve, BATCH_MAX_DELAY_MS * 3))
    expect(handed).toEqual([['a', 'b']])
    expect(calls).toBe(1)
    batch.add('c') // a new batch schedules again
    await new Promise((resolve) => setTimeout(resolve, BATCH_MAX_DELAY_MS * 3))
    expect(handed).toEqual([['a', 'b'], ['c']])
  })

  it('gathers texts that come tens of milliseconds apart into one hand-over (every hand-over wakes the sealing thread)', async () => {
    const handed: string[][] = []
    const batch = createBatch(1000, () => handed.push(batch.take()))
    batch.add('a')
    // A 30 ms timer runs before the batch's own (timers fire in order of expiry), however late both are.
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(handed).toEqual([])
    batch.add('b')
    await new Promise((resolve) => setTimeout(resolve, BATCH_MAX_DELAY_MS * 3))
    expect(handed).toEqual([['a', 'b']])
  })

  it('hands a batch that holds a quarter of a full one over after BATCH_DELAY_MS (texts come fast: waiting longer did not pay)', async () => {
    const handed: string[][] = []
    const batch = createBatch(1000, () => handed.push(batch.take()))
    const text = 'x'.repeat(260)
    batch.add(text)
    // Between the two delays; the batch's own timer (BATCH_DELAY_MS) expires first.
    await new Promise((resolve) => setTimeout(resolve, (BATCH_DELAY_MS + BATCH_MAX_DELAY_MS) / 2))
    expect(handed).toEqual([[text]])
  })
})
