import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type PgAuditOptions, wrapClient, wrapPool } from '../src/index'
import { capture, createSchema, dropSchema, url } from './helpers'

// PHI planted as parameters and as literals in the SQL text (every literal syntax PostgreSQL has)
// never reaches a line; the options (ignore, slowQueryMs, statementText) do what they say.

const schema = `ba_phi_${randomBytes(4).toString('hex')}`
const table = `${schema}.patients`

const PHI = {
  ssn: '123-45-6789',
  name: 'Hortensia Vandersloot',
  email: 'hortensia.v@example.org',
  mrn: 'MRN-55501234',
  phone: '555-867-5309',
  dob: '1961-07-04',
  password: 'db-pa55word-XYZ',
}

function assertNoPhi(lines: string[]): void {
  const all = lines.join('')
  for (const value of Object.values(PHI)) expect(all).not.toContain(value)
  for (const part of ['Hortensia', 'Vandersloot', '55501234', '8675309', '123456789'])
    expect(all).not.toContain(part)
}

beforeAll(async () => {
  await createSchema(schema)
  const client = new pg.Client(url())
  await client.connect()
  await client.query(
    `CREATE TABLE ${table} (id serial PRIMARY KEY, name text, ssn text, email text, mrn text, phone text, dob date, notes text)`,
  )
  await client.end()
})
afterAll(() => dropSchema(schema))

describe('PHI never written', () => {
  test('as parameters of every form', async () => {
    const { audit, lines, events } = capture()
    const pool = wrapPool(new pg.Pool({ connectionString: url(), max: 2 }), audit)
    const values = [PHI.name, PHI.ssn, PHI.email, PHI.mrn, PHI.phone, PHI.dob]
    const insert = `INSERT INTO ${table} (name, ssn, email, mrn, phone, dob) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
    await pool.query(insert, values)
    await pool.query({ text: insert, values })
    await pool.query({ name: 'insert-patient', text: insert, values })
    const client = await pool.connect()
    await new Promise<void>((resolve, reject) =>
      client.query(insert, values, (err) => (err ? reject(err) : resolve())),
    )
    const res = await client.query(`SELECT * FROM ${table} WHERE ssn = $1 AND name = $2`, [PHI.ssn, PHI.name])
    expect(res.rows.length).toBe(4)
    client.release()
    await pool.end()
    expect(events()).toHaveLength(5)
    assertNoPhi(lines)
  })

  test('as literals in the SQL text: plain, E-escaped, dollar-quoted, U&, comments, numbers, IN-lists', async () => {
    const { audit, lines, events } = capture()
    const client = wrapClient(new pg.Client(url()), audit)
    await client.connect()
    const statements = [
      `INSERT INTO ${table} (name, ssn, email, mrn, phone, dob, notes) VALUES ('${PHI.name}', '${PHI.ssn}', '${PHI.email}', '${PHI.mrn}', '${PHI.phone}', '${PHI.dob}', E'it\\'s ${PHI.ssn}')`,
      `SELECT * FROM ${table} WHERE ssn = $q$${PHI.ssn}$q$ OR name = $$${PHI.name}$$`,
      `SELECT * FROM ${table} WHERE email = U&'${PHI.email}' /* patient ${PHI.name} */ -- ${PHI.mrn}\n`,
      `SELECT * FROM ${table} WHERE replace(ssn, '-', '') = '${PHI.ssn.replaceAll('-', '')}' OR id IN (123456789, 55501234)`,
      `UPDATE ${table} SET notes = 'call ${PHI.phone}' WHERE dob = DATE '${PHI.dob}'`,
      `SELECT * FROM ${table} WHERE ssn = '${PHI.ssn}'; SELECT '${PHI.name}'`,
    ]
    for (const sql of statements) await client.query(sql)
    // a failing one: the error message quotes a literal
    await client.query(`SELECT '${PHI.ssn}'::int`).catch(() => {})
    await client.end()
    expect(events()).toHaveLength(statements.length + 1)
    expect(events()[0]!.db.query?.text).toBe(
      `INSERT INTO ${table}(name, ssn, email, mrn, phone, dob, notes) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    expect(events()[3]!.db.query?.text).toContain('IN (?)')
    assertNoPhi(lines)
  })

  test('connection passwords are never written', async () => {
    const { audit, lines } = capture()
    const u = new URL(url())
    u.password = PHI.password
    const pool = wrapPool(new pg.Pool({ connectionString: u.toString(), max: 1 }), audit)
    // trust auth on the test server: the password is sent but not needed; embedded has its own
    await pool.query('SELECT 1').catch(() => {})
    await pool.end()
    expect(lines.join('')).not.toContain(PHI.password)
  })
})

describe('options', () => {
  async function run(options: PgAuditOptions, sqls: string[]) {
    const { audit, events } = capture()
    const client = wrapClient(new pg.Client(url()), audit, options)
    await client.connect()
    for (const sql of sqls) await client.query(sql)
    await client.end()
    return events()
  }

  test('ignore: string (case, whitespace and ; insensitive), RegExp, function', async () => {
    const list = await run(
      {
        ignore: [
          'SELECT 1',
          /^\s*SHOW\b/i,
          (q) => q.operation === 'SET',
          () => {
            throw new Error('a broken rule ignores nothing')
          },
        ],
      },
      [
        'select  1;',
        'SELECT 1',
        'show server_version',
        "SET application_name = 'x'",
        'SELECT 2',
        'SELECT 1 + 1',
      ],
    )
    expect(list.map((e) => e.db.query?.text)).toEqual(['SELECT ?', 'SELECT ? + ?'])
  })

  test('slowQueryMs: slow queries are warn and marked slow, fast ones are not', async () => {
    const list = await run({ slowQueryMs: 100 }, ['SELECT pg_sleep(0.15)', 'SELECT 1'])
    expect(list[0]!['log.level']).toBe('warn')
    expect(list[0]!.audit?.db?.slow).toBe(true)
    expect(list[1]!['log.level']).toBe('info')
    expect(list[1]!.audit?.db?.slow).toBeUndefined()
  })

  test("statementText 'summary' and 'none'", async () => {
    const sql = `SELECT name FROM ${table} WHERE ssn = '${PHI.ssn}'`
    const [summary] = await run({ statementText: 'summary' }, [sql])
    expect(summary!.db.query).toEqual({ summary: `SELECT ${table}` })
    const [none] = await run({ statementText: 'none' }, [sql])
    expect(none!.db.query?.text).toBeUndefined()
    expect(none!.db.operation?.name).toBe('SELECT')
    expect(none!.db.collection?.name).toBe(table)
    expect(none!.audit?.db?.fingerprint).toBe(summary!.audit?.db?.fingerprint)
  })

  test('maxTextLength bounds the text at a token boundary', async () => {
    const columns = Array.from({ length: 60 }, (_, i) => `1 AS column_number_${i}`).join(', ')
    const [e] = await run({ maxTextLength: 100 }, [`SELECT ${columns}`])
    expect(e!.db.query!.text!.length).toBeLessThanOrEqual(100)
    expect(e!.db.query!.text).toMatch(/ \.\.\.$/)
  })

  test('bad options fail at creation with a message saying what to change', () => {
    const { audit } = capture()
    const client = new pg.Client(url())
    const bad: [unknown, RegExp][] = [
      [{ slowQueryMs: -1 }, /slowQueryMs must be a number of milliseconds >= 0; got -1/],
      [{ slowQueryMs: '100' }, /slowQueryMs must be a number/],
      [{ statementText: 'full' }, /statementText must be one of 'normalized', 'summary', 'none'; got "full"/],
      [{ ignore: [42] }, /ignore\[0\] must be a string, a RegExp or a function; got 42/],
      [{ ignore: '  ' }, /ignore\[0\] is an empty string/],
      [{ maxTextLength: 5 }, /maxTextLength must be an integer from 32 to 16384/],
      [{ slowQueryMS: 5 }, /unknown pg option "slowQueryMS"; known options are/],
      ['fast', /pg options must be an object; got "fast"/],
    ]
    for (const [options, message] of bad) {
      expect(() => wrapClient(client, audit, options as PgAuditOptions)).toThrow(message)
    }
    expect(() => wrapClient(client, {} as never)).toThrow(/needs the logger from createAuditLogger\(\)/)
    expect(() => wrapPool({} as never, audit)).toThrow(/wrapPool\(pool, \.\.\.\) needs a pg Pool/)
  })
})
