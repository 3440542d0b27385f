import { randomBytes } from 'node:crypto'
import pg from 'pg'
import Cursor from 'pg-cursor'
import { describe, expect, test } from 'vitest'
import { wrapClient, wrapPool } from '../src/index'
import { capture, type DbEvent, until, url } from './helpers'

// Attribution: a query carries the actor, request id and trace id of the context that issued it,
// whoever opened the connection and whichever request released the pooled client it ran on.
// Each query names its issuer in a column alias (aliases survive normalisation; values do not).

const traceId = () => randomBytes(16).toString('hex')

function issuer(e: DbEvent): string | undefined {
  return /AS (u_\d+)/.exec(e.db.query?.text ?? '')?.[1]
}

describe('actor attribution', () => {
  test('promise, callback and config.callback on a client connected in another context', async () => {
    const { audit, events } = capture()
    // The connection (and so its socket callbacks) belongs to the "opener" context.
    const client = await audit.runWithContext({ actor: { id: 'opener' } }, async () => {
      const c = wrapClient(new pg.Client(url()), audit)
      await c.connect()
      return c
    })
    const seenInCallback: (string | undefined)[] = []
    await audit.runWithContext({ actor: { id: 'u_1' }, requestId: 'req-1', traceId: traceId() }, async () => {
      await client.query('SELECT 1 AS u_1')
      await new Promise<void>((resolve) =>
        client.query('SELECT 2 AS u_1', () => {
          seenInCallback.push(audit.getContext()?.actor?.id)
          resolve()
        }),
      )
      await new Promise<void>((resolve) =>
        client.query({
          text: 'SELECT 3 AS u_1',
          callback: () => {
            seenInCallback.push(audit.getContext()?.actor?.id)
            resolve()
          },
        } as pg.QueryConfig),
      )
    })
    await client.end()
    expect(seenInCallback).toEqual(['u_1', 'u_1'])
    const list = events()
    expect(list).toHaveLength(3)
    for (const e of list) {
      expect(e.user?.id).toBe('u_1')
      expect(e.http?.request?.id).toBe('req-1')
      expect(e.trace?.id).toMatch(/^[0-9a-f]{32}$/)
    }
  })

  test('a pool.query waiting for a client released by another request keeps its own actor', async () => {
    const { audit, events } = capture()
    const pool = wrapPool(new pg.Pool({ connectionString: url(), max: 1 }), audit)
    let release: (() => void) | undefined
    const held = audit.runWithContext({ actor: { id: 'u_1' } }, async () => {
      const c = await pool.connect()
      await c.query('SELECT 1 AS u_1')
      await new Promise<void>((r) => {
        release = r
      })
      c.release() // in u_1's context: completes u_2's waiting checkout
    })
    const seen: (string | undefined)[] = []
    const waiting = audit.runWithContext({ actor: { id: 'u_2' } }, async () => {
      const p1 = pool.query('SELECT 2 AS u_2') // waits for u_1's client
      const p2 = new Promise<void>((resolve, reject) =>
        pool.connect((err, c, done) => {
          if (err || !c) return reject(err)
          seen.push(audit.getContext()?.actor?.id)
          c.query('SELECT 3 AS u_2', () => {
            seen.push(audit.getContext()?.actor?.id)
            done()
            resolve()
          })
        }),
      )
      // u_1 holds the only client and both of u_2's checkouts are queued behind it.
      await until(() => release !== undefined && pool.waitingCount >= 2)
      release!()
      await Promise.all([p1, p2])
    })
    await Promise.all([held, waiting])
    await pool.end()
    expect(seen).toEqual(['u_2', 'u_2'])
    const list = events()
    expect(list).toHaveLength(3)
    for (const e of list) expect(e.user?.id).toBe(issuer(e))
  })

  test('many interleaved contexts over a small pool, every form: no event carries another actor', async () => {
    const { audit, events } = capture()
    const pool = wrapPool(new pg.Pool({ connectionString: url(), max: 3 }), audit)
    const N = 60
    const jobs = Array.from({ length: N }, (_, i) =>
      audit.runWithContext({ actor: { id: `u_${i}` }, requestId: `req-${i}` }, async () => {
        const alias = `u_${i}`
        await new Promise((r) => setTimeout(r, (i * 7) % 13))
        switch (i % 4) {
          case 0:
            await pool.query(`SELECT $1::int AS ${alias}`, [i])
            break
          case 1:
            await new Promise<void>((resolve, reject) =>
              pool.query(`SELECT $1::int AS ${alias}`, [i], (err) => (err ? reject(err) : resolve())),
            )
            break
          case 2: {
            const c = await pool.connect()
            try {
              await c.query('BEGIN')
              await c.query(`SELECT pg_sleep(0.005) AS ${alias}`)
              await c.query('COMMIT')
            } finally {
              c.release()
            }
            break
          }
          default: {
            const c = await pool.connect()
            const cursor = c.query(new Cursor(`SELECT g AS ${alias} FROM generate_series(1, 5) g`))
            await cursor.read(10)
            await cursor.close()
            c.release()
          }
        }
      }),
    )
    await Promise.all(jobs)
    await pool.end()
    const list = events()
    // 15 jobs of the transaction kind make three events each
    expect(list).toHaveLength(N + 15 * 2)
    for (const e of list) {
      const who = issuer(e)
      if (who) expect(e.user?.id).toBe(who)
      expect(e.user?.id).toMatch(/^u_\d+$/)
      expect(e.http?.request?.id).toBe(`req-${e.user!.id.slice(2)}`)
    }
    expect(new Set(list.map((e) => e.user?.id)).size).toBe(N)
  })

  test('outside any context no actor is invented', async () => {
    const { audit, events } = capture()
    const pool = wrapPool(new pg.Pool({ connectionString: url(), max: 1 }), audit)
    await audit.runWithContext({ actor: { id: 'someone' } }, () => pool.query('SELECT 1'))
    await pool.query('SELECT 2')
    await pool.end()
    expect(events()[0]!.user?.id).toBe('someone')
    expect(events()[1]!.user).toBeUndefined()
  })
})
