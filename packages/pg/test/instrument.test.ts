import { randomBytes } from 'node:crypto'
import knexFactory from 'knex'
import pg, * as pgNamespace from 'pg'
import QueryStream from 'pg-query-stream'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { instrumentPg, wrapPool } from '../src/index'
import { capture, createSchema, dropSchema, url } from './helpers'

// instrumentPg patches the pg module once, for clients created by code that never sees a wrapper:
// Knex builds its own pg.Client instances (through its own pool) and is audited all the same.
// The patch is process-wide, so this file undoes it after each test (vitest isolates files).

const schema = `ba_instr_${randomBytes(4).toString('hex')}`
const table = `${schema}.patients`

beforeAll(() => createSchema(schema))
afterAll(() => dropSchema(schema))

describe('instrumentPg', () => {
  test('Knex: schema, inserts, selects, transactions, streams; attributed; no values', async () => {
    const { audit, events, lines } = capture()
    const undo = instrumentPg(pg, audit)
    const knex = knexFactory({ client: 'pg', connection: url(), pool: { min: 0, max: 2 } })
    try {
      await knex.schema.withSchema(schema).createTable('patients', (t) => {
        t.increments('id')
        t.string('name').notNullable()
        t.string('ssn').unique()
      })
      await audit.runWithContext({ actor: { id: 'dr-knex' } }, async () => {
        await knex(table).insert([
          { name: 'Ottoline Pemberton', ssn: '078-05-1120' },
          { name: 'Bartholomew Finch', ssn: '219-09-9999' },
        ])
        const rows = await knex(table).where({ ssn: '078-05-1120' }).select('id', 'name')
        expect(rows).toHaveLength(1)
        await knex.transaction(async (trx) => {
          await trx(table).where({ id: rows[0].id }).update({ name: 'Renamed' })
        })
        const streamed: unknown[] = []
        await new Promise<void>((resolve, reject) => {
          const stream = knex(table).select('id').stream()
          stream.on('data', (row) => streamed.push(row))
          stream.on('end', resolve)
          stream.on('error', reject)
        })
        expect(streamed).toHaveLength(2)
      })
    } finally {
      await knex.destroy()
      undo()
    }
    const list = events()
    const ops = list.map((e) => e.db.operation?.name)
    // knex asks for the server version on its first connection, then creates the table
    expect(ops.slice(0, 2)).toEqual(['SELECT', 'CREATE'])
    // insert, select, BEGIN, update, COMMIT, stream select
    expect(ops.slice(-6)).toEqual(['INSERT', 'SELECT', 'BEGIN', 'UPDATE', 'COMMIT', 'SELECT'])
    for (const e of list.slice(-6)) expect(e.user?.id).toBe('dr-knex')
    const insert = list.find((e) => e.db.operation?.name === 'INSERT')!
    expect(insert.db.collection?.name).toBe(table)
    expect(insert.db.response?.returned_rows).toBe(2)
    expect(insert.db.query?.text).toBe(
      `INSERT INTO "${schema}"."patients"("name", "ssn") VALUES ($1, $2), ...`,
    )
    const all = lines.join('')
    for (const phi of ['Ottoline', 'Pemberton', '078-05-1120', 'Bartholomew', '219-09-9999']) {
      expect(all).not.toContain(phi)
    }
  })

  test('idempotent: a second call replaces logger and options, never double-counts', async () => {
    const first = capture()
    const second = capture()
    const undo = instrumentPg(pg, first.audit)
    const undo2 = instrumentPg({ default: pg }, second.audit, { statementText: 'summary' })
    expect(undo2).toBe(undo)
    const client = new pg.Client(url()) // created after, not wrapped by anyone
    try {
      await client.connect()
      await client.query('SELECT 1')
    } finally {
      await client.end()
      undo()
    }
    expect(first.events()).toHaveLength(0)
    expect(second.events()).toHaveLength(1)
    expect(second.events()[0]!.db.query?.text).toBeUndefined()
  })

  test('pg.Pool: pool.query and checked-out clients once each; with wrapPool on top still once', async () => {
    const { audit, events } = capture()
    const undo = instrumentPg(pg, audit)
    try {
      const pool = new pg.Pool({ connectionString: url(), max: 2 })
      await pool.query('SELECT 1')
      const c = await pool.connect()
      await c.query('SELECT 2')
      const stream = c.query(new QueryStream('SELECT generate_series(1, 3) AS n'))
      for await (const _ of stream) {
        // read all
      }
      c.release()
      await pool.end()
      expect(events()).toHaveLength(3)

      const both = wrapPool(new pg.Pool({ connectionString: url(), max: 1 }), audit)
      await both.query('SELECT 3')
      await both.end()
      expect(events()).toHaveLength(4)
    } finally {
      undo()
    }
  })

  test('uninstrument restores pg: later queries are not audited', async () => {
    const { audit, events } = capture()
    const before = pg.Client.prototype.query
    const undo = instrumentPg(pg, audit)
    expect(pg.Client.prototype.query).not.toBe(before)
    undo()
    expect(pg.Client.prototype.query).toBe(before)
    const client = new pg.Client(url())
    await client.connect()
    await client.query('SELECT 1')
    await client.end()
    expect(events()).toHaveLength(0)
  })

  test("ESM namespace import (import * as pg from 'pg') patches the same classes", async () => {
    const { audit, events } = capture()
    const undo = instrumentPg(pgNamespace, audit)
    try {
      const pool = new pg.Pool({ connectionString: url(), max: 1 })
      await pool.query('SELECT 1')
      await pool.end()
    } finally {
      undo()
    }
    expect(events()).toHaveLength(1)
  })

  test('a module without Client fails with a clear message', () => {
    const { audit } = capture()
    expect(() => instrumentPg({}, audit)).toThrow(/instrumentPg\(pg, \.\.\.\) needs the pg module/)
  })
})
