import { randomBytes } from 'node:crypto'
import pg from 'pg'
import Cursor from 'pg-cursor'
import QueryStream from 'pg-query-stream'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { wrapClient, wrapPool } from '../src/index'
import { capture, createSchema, type DbEvent, dropSchema, until, url } from './helpers'

// Every query form of pg 8, through wrapClient and wrapPool, against the real server: each gives
// exactly one db-query event, and the call behaves as it does without the wrapper.

const schema = `ba_forms_${randomBytes(4).toString('hex')}`
const table = `${schema}.patients`
const server = new URL(url())

beforeAll(async () => {
  await createSchema(schema)
  const client = new pg.Client(url())
  await client.connect()
  await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL, ssn text UNIQUE)`)
  await client.query(`INSERT INTO ${table} SELECT g, 'Patient ' || g, NULL FROM generate_series(1, 25) g`)
  await client.end()
})
afterAll(() => dropSchema(schema))

async function withClient<T>(fn: (client: pg.Client, events: () => DbEvent[]) => Promise<T>): Promise<T> {
  const { audit, events } = capture()
  const client = wrapClient(new pg.Client(url()), audit)
  await client.connect()
  try {
    return await fn(client, events)
  } finally {
    await client.end()
  }
}

function only(events: DbEvent[]): DbEvent {
  expect(events).toHaveLength(1)
  return events[0]!
}

describe('client.query forms', () => {
  test('text (promise): fields of the event', async () => {
    await withClient(async (client, events) => {
      const res = await client.query(`SELECT id, name FROM ${table} WHERE id <= 3 ORDER BY id`)
      expect(res.rows).toHaveLength(3)
      const e = only(events())
      expect(e.event).toMatchObject({
        action: 'db-query',
        category: ['database'],
        type: ['access'],
        outcome: 'success',
      })
      expect(e.event.duration).toBeGreaterThan(0)
      expect(e['log.level']).toBe('info')
      expect(e.db.system.name).toBe('postgresql')
      expect(e.db.namespace).toBe(server.pathname.slice(1))
      expect(e.server).toEqual({ address: server.hostname, port: Number(server.port || 5432) })
      expect(e.db.operation?.name).toBe('SELECT')
      expect(e.db.collection?.name).toBe(table)
      expect(e.db.query?.summary).toBe(`SELECT ${table}`)
      expect(e.db.query?.text).toBe(`SELECT id, name FROM ${table} WHERE id <= ? ORDER BY id`)
      expect(e.db.response?.returned_rows).toBe(3)
      expect(e.audit?.db?.fingerprint).toMatch(/^[0-9a-f]{16}$/)
    })
  })

  test('text + values (promise), same fingerprint whatever the values', async () => {
    await withClient(async (client, events) => {
      const a = await client.query(`SELECT name FROM ${table} WHERE id = $1`, [1])
      const b = await client.query(`SELECT name FROM ${table} WHERE id = $1`, [2])
      expect(a.rows[0].name).toBe('Patient 1')
      expect(b.rows[0].name).toBe('Patient 2')
      const [ea, eb] = events()
      expect(ea!.audit?.db?.fingerprint).toBe(eb!.audit?.db?.fingerprint)
      expect(ea!.db.query?.text).toBe(`SELECT name FROM ${table} WHERE id = $1`)
    })
  })

  test('text + callback and text + values + callback return undefined and call back', async () => {
    await withClient(async (client, events) => {
      const rows = await new Promise<number>((resolve, reject) => {
        const ret = client.query(`SELECT 1 AS one`, (err: Error | null, res: pg.QueryResult) =>
          err ? reject(err) : resolve(res.rows.length),
        )
        expect(ret).toBeUndefined()
      })
      expect(rows).toBe(1)
      const name = await new Promise<string>((resolve, reject) => {
        const ret = client.query(`SELECT name FROM ${table} WHERE id = $1`, [4], (err, res) =>
          err ? reject(err) : resolve(res.rows[0].name),
        )
        expect(ret).toBeUndefined()
      })
      expect(name).toBe('Patient 4')
      expect(events()).toHaveLength(2)
      expect(events()[1]!.db.response?.returned_rows).toBe(1)
    })
  })

  test('config object, config + values, config + callback, config.callback', async () => {
    await withClient(async (client, events) => {
      await client.query({ text: `SELECT * FROM ${table} WHERE id = $1`, values: [5] })
      await client.query({ text: `SELECT * FROM ${table} WHERE id = $1` }, [6])
      await new Promise<void>((resolve, reject) =>
        client.query({ text: `SELECT * FROM ${table} WHERE id = $1`, values: [7] }, (err: Error | null) =>
          err ? reject(err) : resolve(),
        ),
      )
      // config.callback: pg calls it; the caller's config object is not modified
      const config = {
        text: `SELECT * FROM ${table} WHERE id = $1`,
        values: [8],
        callback: undefined as unknown as (err: Error | null, res: pg.QueryResult) => void,
      }
      const got = await new Promise<pg.QueryResult>((resolve, reject) => {
        const cb = (err: Error | null, res: pg.QueryResult) => (err ? reject(err) : resolve(res))
        config.callback = cb
        const ret = client.query(config as pg.QueryConfig)
        expect(ret).toBeUndefined()
        expect(config.callback).toBe(cb)
      })
      expect(got.rows[0].id).toBe(8)
      expect(Object.keys(config)).toEqual(['text', 'values', 'callback'])
      expect(events()).toHaveLength(4)
      for (const e of events()) expect(e.db.response?.returned_rows).toBe(1)
    })
  })

  test('named prepared statement: name in the event, both executions audited', async () => {
    await withClient(async (client, events) => {
      const q = { name: 'patient-by-id', text: `SELECT name FROM ${table} WHERE id = $1` }
      await client.query({ ...q, values: [9] })
      await client.query({ ...q, values: [10] })
      const list = events()
      expect(list).toHaveLength(2)
      for (const e of list) expect(e.audit?.db?.statement_name).toBe('patient-by-id')
    })
  })

  test("rowMode 'array'", async () => {
    await withClient(async (client, events) => {
      const res = await client.query({
        text: `SELECT id, name FROM ${table} WHERE id = $1`,
        values: [11],
        rowMode: 'array',
      })
      expect(res.rows[0]).toEqual([11, 'Patient 11'])
      expect(only(events()).db.response?.returned_rows).toBe(1)
    })
  })

  test('multi-statement text: one event, all statements in the summary', async () => {
    await withClient(async (client, events) => {
      const res = (await client.query(
        `SELECT 1; UPDATE ${table} SET name = name WHERE id = 12; SELECT 2`,
      )) as unknown as pg.QueryResult[]
      expect(res).toHaveLength(3)
      const e = only(events())
      expect(e.db.query?.summary).toBe(`SELECT; UPDATE ${table}; SELECT`)
      expect(e.event.type).toEqual(['change'])
    })
  })
})

describe('submittables are returned untouched and audited when they end', () => {
  test('pg.Query with end event', async () => {
    await withClient(async (client, events) => {
      const query = new pg.Query(`SELECT id FROM ${table} WHERE id <= 4`)
      const returned = client.query(query)
      expect(returned).toBe(query)
      const rows: unknown[] = []
      query.on('row', (row: unknown) => rows.push(row))
      await new Promise((resolve) => query.on('end', resolve))
      expect(rows).toHaveLength(4)
      await until(() => events().length === 1)
      expect(only(events()).event.outcome).toBe('success')
    })
  })

  test('pg.Query with its own callback that fails: one failure event, callback called once', async () => {
    await withClient(async (client, events) => {
      const calls: unknown[] = []
      const query = new pg.Query('SELECT 1/0', [], (err: unknown) => calls.push(err))
      expect(client.query(query)).toBe(query)
      await until(() => calls.length === 1 && events().length === 1)
      expect(String(calls[0])).toMatch(/division by zero/)
      expect(events()[0]!.event.outcome).toBe('failure')
      expect(events()[0]!.db.response?.status_code).toBe('22012')
      await client.query('SELECT 1')
      expect(calls).toHaveLength(1)
      expect(events()).toHaveLength(2)
    })
  })

  test('pg-cursor read to the end, and closed early', async () => {
    await withClient(async (client, events) => {
      const cursor = new Cursor(`SELECT id FROM ${table} WHERE id <= $1 ORDER BY id`, [10])
      expect(client.query(cursor)).toBe(cursor)
      expect(cursor).toBeInstanceOf(Cursor)
      let total = 0
      for (;;) {
        const rows = await cursor.read(3)
        total += rows.length
        if (rows.length === 0) break
      }
      await cursor.close()
      expect(total).toBe(10)
      await until(() => events().length === 1)
      expect(events()[0]!.db.response?.returned_rows).toBe(10)
      expect(events()[0]!.db.query?.text).toBe(`SELECT id FROM ${table} WHERE id <= $1 ORDER BY id`)

      const early = client.query(new Cursor(`SELECT id FROM ${table} ORDER BY id`))
      expect(await early.read(2)).toHaveLength(2)
      await early.close()
      await until(() => events().length === 2)
      expect(events()[1]!.event.outcome).toBe('success')
      expect(events()[1]!.db.response?.returned_rows).toBe(2)
    })
  })

  test('pg-cursor error without an error listener still gives one failure event', async () => {
    await withClient(async (client, events) => {
      const cursor = client.query(new Cursor(`SELECT nope FROM ${table}`))
      await expect(cursor.read(1)).rejects.toThrow(/column "nope" does not exist/)
      await until(() => events().length === 1)
      const e = events()[0]!
      expect(e.event.outcome).toBe('failure')
      expect(e.db.response?.status_code).toBe('42703')
      await cursor.close().catch(() => {})
      // the client is still usable and the next query is a separate event
      await client.query('SELECT 1')
      expect(events()).toHaveLength(2)
    })
  })

  test('pg-query-stream consumed, and destroyed early', async () => {
    await withClient(async (client, events) => {
      const stream = new QueryStream(`SELECT id FROM ${table} ORDER BY id`, [], { batchSize: 5 })
      expect(client.query(stream)).toBe(stream)
      let n = 0
      for await (const _row of stream) n++
      expect(n).toBe(25)
      await until(() => events().length === 1)
      expect(events()[0]!.db.response?.returned_rows).toBe(25)

      const early = client.query(new QueryStream(`SELECT id FROM ${table} ORDER BY id`, [], { batchSize: 5 }))
      for await (const _row of early) break // destroys the stream
      await until(() => events().length === 2)
      expect(events()[1]!.event.outcome).toBe('success')
      await client.query('SELECT 1')
      expect(events()).toHaveLength(3)
    })
  })

  test('pg-query-stream error reaches the stream and the audit', async () => {
    await withClient(async (client, events) => {
      const stream = client.query(new QueryStream(`SELECT 1/0 AS boom`))
      await expect(async () => {
        for await (const _row of stream) {
          // nothing
        }
      }).rejects.toThrow(/division by zero/)
      await until(() => events().length === 1)
      expect(events()[0]!.event.outcome).toBe('failure')
      expect(events()[0]!.db.response?.status_code).toBe('22012')
    })
  })
})

describe('pool', () => {
  test('wrapPool returns the same pool; clients are pg Clients; pool events still fire', async () => {
    const { audit } = capture()
    const raw = new pg.Pool({ connectionString: url(), max: 2 })
    const seen: string[] = []
    raw.on('connect', () => seen.push('connect'))
    raw.on('acquire', () => seen.push('acquire'))
    raw.on('release', () => seen.push('release'))
    const pool = wrapPool(raw, audit)
    expect(pool).toBe(raw)
    expect(pool).toBeInstanceOf(pg.Pool)
    const client = await pool.connect()
    expect(client).toBeInstanceOf(pg.Client)
    client.release()
    expect(seen).toEqual(['connect', 'acquire', 'release'])
    await pool.end()
  })

  test('pool.query is one event (promise and callback)', async () => {
    const { audit, events } = capture()
    const pool = wrapPool(new pg.Pool({ connectionString: url(), max: 3 }), audit)
    const res = await pool.query(`SELECT name FROM ${table} WHERE id = $1`, [13])
    expect(res.rows[0].name).toBe('Patient 13')
    expect(events()).toHaveLength(1)
    await new Promise<void>((resolve, reject) =>
      pool.query(`SELECT name FROM ${table} WHERE id = $1`, [14], (err) => (err ? reject(err) : resolve())),
    )
    expect(events()).toHaveLength(2)
    await pool.end()
    expect(events().every((e) => e.db.operation?.name === 'SELECT')).toBe(true)
  })

  test('pool.connect (promise and callback) with release, and a transaction', async () => {
    const { audit, events } = capture()
    const pool = wrapPool(new pg.Pool({ connectionString: url(), max: 2 }), audit)

    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`UPDATE ${table} SET name = $1 WHERE id = $2`, ['Renamed', 15])
      await client.query('COMMIT')
    } finally {
      client.release()
    }

    await new Promise<void>((resolve, reject) => {
      pool.connect((err, c, done) => {
        if (err || !c) return reject(err)
        c.query('BEGIN', () => {
          c.query(`DELETE FROM ${table} WHERE id = $1`, [16], () => {
            c.query('ROLLBACK', (e2) => {
              done()
              e2 ? reject(e2) : resolve()
            })
          })
        })
      })
    })
    await pool.end()

    const list = events()
    expect(list.map((e) => e.db.operation?.name)).toEqual([
      'BEGIN',
      'UPDATE',
      'COMMIT',
      'BEGIN',
      'DELETE',
      'ROLLBACK',
    ])
    expect(list.map((e) => e.event.type[0])).toEqual([
      'access',
      'change',
      'access',
      'access',
      'change',
      'access',
    ])
    expect(list[1]!.db.response?.returned_rows).toBe(1)
    expect(list[1]!.db.collection?.name).toBe(table)
  })

  test('wrapping twice counts once', async () => {
    const { audit, events } = capture()
    const pool = wrapPool(wrapPool(new pg.Pool({ connectionString: url(), max: 1 }), audit), audit)
    const client = await pool.connect()
    wrapClient(client, audit)
    await client.query('SELECT 1')
    client.release()
    await pool.query('SELECT 2')
    await pool.end()
    expect(events()).toHaveLength(2)
  })
})
