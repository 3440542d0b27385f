import { describe, expect, it } from 'vitest'
import { createDrain, drainOf } from './drain'

describe('drain', () => {
  it('closes at once when nothing is in flight, and admits nothing after', async () => {
    const d = createDrain()
    expect(d.close(10_000)).toBeUndefined()
    expect(d.open).toBe(false)
    expect(d.enter()).toBe(false)
  })

  it('waits for what was admitted, then resolves', async () => {
    const d = createDrain()
    expect(d.enter()).toBe(true)
    expect(d.enter()).toBe(true)
    let closed = false
    const closing = d.close(10_000)!.then(() => {
      closed = true
    })
    expect(d.enter()).toBe(false)
    d.leave()
    await new Promise((r) => setImmediate(r))
    expect(closed).toBe(false)
    d.leave()
    await closing
    expect(closed).toBe(true)
  })

  it('gives up after the timeout', async () => {
    const d = createDrain()
    d.enter()
    await d.close(20)
    expect(d.open).toBe(false)
  })

  it('drainOf finds nothing on objects without one, and never throws', () => {
    expect(drainOf(undefined)).toBeUndefined()
    expect(drainOf({})).toBeUndefined()
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no')
        },
      },
    )
    expect(drainOf(hostile)).toBeUndefined()
  })
})
