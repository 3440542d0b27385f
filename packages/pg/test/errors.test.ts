import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { wrapClient, wrapPool } from '../src/index'
import { capture, createSchema, type DbEvent, dropSchema, url } from './helpers'

// Failures: each is one failure event with the SQLSTATE (or the driver's code) and a message
// without values; the application sees exactly the error pg gives it.

const schema = `ba_errors_${randomBytes(4).toString('hex')}`
const table = `${schema}.patients`
const SSN = '987-65-4321'
const NAME = 'Zebulon Quartermaine'

beforeAll(async () => {
  await createSchema(schema)
  const client = new pg.Client(url())
  await client.connect()
  await client.query(
    `CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL, ssn text UNIQUE, born date)`,
  )
  await client.query(`INSERT INTO ${table} (id, name, ssn) VALUES (1, $1, $2)`, [NAME, SSN])
  await client.end()
})
afterAll(() => dropSchema(schema))

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function noPhi(lines: string[]): void {
  const all = lines.join('')
  expect(all).not.toContain(SSN)
  expect(all).not.toContain('987654321')
  expect(all).not.toContain('Zebulon')
  expect(all).not.toContain('Quartermaine')
}

describe('server errors', () => {
  test('syntax error: 42601, the application gets pg own error', async () => {
    const { audit, events, lines } = capture()
    const client = wrapClient(new pg.Client(url()), audit)
    await client.connect()
    const err = await client.query(`SELEC name FROM ${table} WHERE ssn = '${SSN}'`).catch((e: unknown) => e)
    await client.end()
    expect(err).toBeInstanceOf(pg.DatabaseError)
    expect((err as pg.DatabaseError).code).toBe('42601')
    const [e] = events()
    expect(e!.event.outcome).toBe('failure')
    expect(e!.event.type).toEqual(['change', 'error'])
    expect(e!['log.level']).toBe('warn')
    expect(e!.db.response?.status_code).toBe('42601')
    expect(e!.error?.code).toBe('42601')
    expect(e!.error?.type).toBe('DatabaseError')
    expect(e!.error?.message).toBe('syntax error at or near "?"')
    noPhi(lines)
  })

  test('unique violation with PHI in the row: constraint kept, Key (...)=(...) gone', async () => {
    const { audit, events, lines } = capture()
    const pool = wrapPool(new pg.Pool({ connectionString: url(), max: 1 }), audit)
    const err = (await pool
      .query(`INSERT INTO ${table} (id, name, ssn) VALUES ($1, $2, $3)`, [2, NAME, SSN])
      .catch((e: unknown) => e)) as pg.DatabaseError
    await pool.end()
    // pg hands the application the full error, detail included
    expect(err.code).toBe('23505')
    expect(err.detail).toContain(SSN)
    const [e] = events()
    expect(events()).toHaveLength(1)
    expect(e!.db.response?.status_code).toBe('23505')
    expect(e!.error?.message).toBe(`duplicate key value violates unique constraint "patients_ssn_key"`)
    expect(e!.db.operation?.name).toBe('INSERT')
    expect(e!.db.collection?.name).toBe(table)
    noPhi(lines)
  })

  test('value errors quote the value: it is removed', async () => {
    const { audit, events, lines } = capture()
    const client = wrapClient(new pg.Client(url()), audit)
    await client.connect()
    await client.query('SELECT $1::int', [SSN]).catch(() => {})
    await client.query(`SELECT '${SSN}'::date`).catch(() => {})
    await client
      .query(`INSERT INTO ${table} (id, name, born) VALUES (3, $1, $2)`, [NAME, '1970-13-45'])
      .catch(() => {})
    await client.query(`INSERT INTO ${table} (id, ssn) VALUES (4, $1)`, [SSN]).catch(() => {})
    await client.end()
    const list = events()
    // invalid text representation, datetime out of range (both dates), not-null violation
    expect(list.map((e) => e.db.response?.status_code?.slice(0, 2))).toEqual(['22', '22', '22', '23'])
    expect(list[0]!.db.response?.status_code).toBe('22P02')
    expect(list[3]!.db.response?.status_code).toBe('23502')
    expect(list[0]!.error?.message).toBe('invalid input syntax for type integer: "?"')
    expect(list[3]!.error?.message).toBe(
      'null value in column "name" of relation "patients" violates not-null constraint',
    )
    noPhi(lines)
  })
})

describe('connection and pool errors', () => {
  test('connection refused: pool.query is audited as a failure with ECONNREFUSED', async () => {
    const { audit, events, lines } = capture()
    const port = await closedPort()
    const pool = wrapPool(
      new pg.Pool({
        host: '127.0.0.1',
        port,
        user: 'postgres',
        password: 's3cr3t-pw',
        database: 'test',
        max: 1,
      }),
      audit,
    )
    const err = await pool.query('SELECT name FROM patients WHERE ssn = $1', [SSN]).catch((e: unknown) => e)
    await pool.end()
    expect((err as { code?: string }).code).toBe('ECONNREFUSED')
    expect(events()).toHaveLength(1)
    const e = events()[0]!
    expect(e.event.outcome).toBe('failure')
    expect(e.error?.code).toBe('ECONNREFUSED')
    expect(e.db.response?.status_code).toBeUndefined()
    expect(e.server).toEqual({ address: '127.0.0.1', port })
    expect(e.db.query?.text).toBe('SELECT name FROM patients WHERE ssn = $1')
    expect(lines.join('')).not.toContain('s3cr3t-pw')
    noPhi(lines)
  })

  test('connection refused: a query on a client that failed to connect', async () => {
    const { audit, events } = capture()
    const port = await closedPort()
    const client = wrapClient(new pg.Client({ host: '127.0.0.1', port, database: 'test' }), audit)
    await expect(client.connect()).rejects.toThrow(/ECONNREFUSED/)
    // pg rejects the query (message depends on how far the connection got)
    await expect(client.query('SELECT 1')).rejects.toThrow()
    expect(events()).toHaveLength(1)
    expect(events()[0]!.event.outcome).toBe('failure')
  })

  test('query_timeout (driver) and statement_timeout (server, 57014)', async () => {
    const { audit, events } = capture()
    const client = wrapClient(new pg.Client({ connectionString: url(), query_timeout: 150 }), audit)
    await client.connect()
    await expect(client.query('SELECT pg_sleep(2)')).rejects.toThrow('Query read timeout')
    await client.end().catch(() => {})

    const client2 = wrapClient(new pg.Client({ connectionString: url(), statement_timeout: 100 }), audit)
    await client2.connect()
    await expect(client2.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/)
    await client2.end()

    const [timeout, cancelled] = events()
    expect(timeout!.event.outcome).toBe('failure')
    expect(timeout!.error?.message).toBe('Query read timeout')
    expect(cancelled!.db.response?.status_code).toBe('57014')
    expect(events()).toHaveLength(2)
  })

  test('pool exhausted: the waiting pool.query times out and is audited once', async () => {
    const { audit, events } = capture()
    const pool = wrapPool(
      new pg.Pool({ connectionString: url(), max: 1, connectionTimeoutMillis: 200 }),
      audit,
    )
    const holder = await pool.connect()
    const err = await pool.query(`SELECT * FROM ${table}`).catch((e: unknown) => e)
    expect(String((err as Error).message)).toMatch(/timeout exceeded when trying to connect/)
    // pool.connect() itself failing is no query: nothing to audit
    await expect(pool.connect()).rejects.toThrow(/timeout/)
    holder.release()
    await pool.end()
    expect(events()).toHaveLength(1)
    expect(events()[0]!.event.outcome).toBe('failure')
    expect(events()[0]!.error?.message).toBe('timeout exceeded when trying to connect')
    expect(events()[0]!.db.collection?.name).toBe(table)
  })

  test('a callback that throws still has its event written first', async () => {
    const { audit, events } = capture()
    const client = wrapClient(new pg.Client(url()), audit)
    await client.connect()
    const thrown = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve))
    client.query('SELECT 1', () => {
      throw new Error('application bug')
    })
    expect(String(await thrown)).toContain('application bug')
    expect(events()).toHaveLength(1)
    await client.end()
  })
})

describe('one error, one error.type', () => {
  test('the db-query event and an event the app writes with the same error name the same type', async () => {
    const { audit, events, lines } = capture()
    const client = wrapClient(new pg.Client(url()), audit)
    await client.connect()
    let caught: unknown
    try {
      await client.query(`INSERT INTO ${table} (id, name) VALUES (1, 'x')`)
    } catch (err) {
      caught = err
    } finally {
      await client.end()
    }
    // what an HTTP adapter writes for the error the handler passed on
    audit.event({ action: 'http-request', category: 'web', type: 'error', outcome: 'failure', error: caught })
    const db = events()[0]!
    const other = JSON.parse(lines[lines.length - 1]!) as DbEvent
    expect(db.error?.type).toBe('DatabaseError')
    expect(other.error?.type).toBe(db.error?.type)
    expect(other.error?.code).toBe('23505')
  })
})

describe('identifiers in table and schema names', () => {
  test('db.collection.name and db.namespace go through the detectors, as the query text does', async () => {
    const { audit, lines, events } = capture()
    const odd = `${schema}_jane.doe_example.org_123-45-6789`
    const names = [`"${odd}"`, `"${schema}"."tbl_555-867-5309"`, `"${schema}"."jane.doe@example.com"`]
    const client = wrapClient(new pg.Client(url()), audit)
    await client.connect()
    try {
      for (const name of names) {
        await client.query(`CREATE TABLE ${name} (id int)`)
        await client.query(`SELECT id FROM ${name}`)
        await client.query(`DROP TABLE ${name}`)
      }
    } finally {
      await client.end()
    }
    expect(events().length).toBeGreaterThanOrEqual(9)
    const all = lines.join('\n')
    for (const planted of ['123-45-6789', '555-867-5309', 'jane.doe@example.com', '5558675309'])
      expect(all).not.toContain(planted)
    // and directly: names the adapter could not normalise, given as they are
    audit.dbQuery({
      operation: 'SELECT',
      collection: 'jane.doe_example.org_123-45-6789',
      namespace: 'db_078-05-1120',
    })
    const last = JSON.parse(lines[lines.length - 1]!) as DbEvent
    expect(last.db.collection?.name).toBe('jane.doe_example.org_[REDACTED:ssn]')
    expect(last.db.namespace).toBe('db_[REDACTED:ssn]')
    expect(last.message).not.toContain('123-45-6789')
  })
})
