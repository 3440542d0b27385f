import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { analyzeSql } from './analyze'

const cases: [
  sql: string,
  text: string,
  operation: string | undefined,
  collection: string | undefined,
  summary: string | undefined,
  write: boolean,
][] = [
  [
    "SELECT * FROM patients WHERE ssn = '123-45-6789' AND age > 42 -- note\n",
    'SELECT * FROM patients WHERE ssn = ? AND age > ?',
    'SELECT',
    'patients',
    'SELECT patients',
    false,
  ],
  [
    'select p.id from public.patients p join visits v on v.pid = p.id where p.id in (1, 2, 3)',
    'SELECT p.id FROM public.patients p JOIN visits v ON v.pid = p.id WHERE p.id IN (?)',
    'SELECT',
    'public.patients',
    'SELECT public.patients visits',
    false,
  ],
  [
    'INSERT INTO patients (name, ssn) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING id',
    'INSERT INTO patients(name, ssn) VALUES ($1, $2), ... RETURNING id',
    'INSERT',
    'patients',
    'INSERT patients',
    true,
  ],
  [
    "INSERT INTO t (a) VALUES ('x') ON CONFLICT (a) DO UPDATE SET a = excluded.a",
    'INSERT INTO t(a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = excluded.a',
    'INSERT',
    't',
    'INSERT t',
    true,
  ],
  [
    "UPDATE patients SET name = $$Jane 'Doe'$$ WHERE id = -5",
    'UPDATE patients SET name = ? WHERE id = ?',
    'UPDATE',
    'patients',
    'UPDATE patients',
    true,
  ],
  [
    'UPDATE t SET n = n - 1 WHERE id = $1',
    'UPDATE t SET n = n - ? WHERE id = $1',
    'UPDATE',
    't',
    'UPDATE t',
    true,
  ],
  [
    'DELETE FROM ONLY patients USING visits WHERE visits.pid = patients.id',
    'DELETE FROM ONLY patients USING visits WHERE visits.pid = patients.id',
    'DELETE',
    'patients',
    'DELETE patients visits',
    true,
  ],
  [
    'WITH r AS (SELECT * FROM visits) SELECT * FROM r, patients p FOR UPDATE',
    'WITH r AS (SELECT * FROM visits) SELECT * FROM r, patients p FOR UPDATE',
    'SELECT',
    'patients',
    'SELECT visits SELECT patients',
    false,
  ],
  [
    'WITH gone AS (DELETE FROM visits RETURNING *) SELECT count(*) FROM gone',
    'WITH gone AS (DELETE FROM visits RETURNING *) SELECT count(*) FROM gone',
    'SELECT',
    undefined,
    'DELETE visits SELECT',
    true,
  ],
  [
    'INSERT INTO t SELECT * FROM s',
    'INSERT INTO t SELECT * FROM s',
    'INSERT',
    't',
    'INSERT t SELECT s',
    true,
  ],
  ['SELECT * INTO newt FROM t', 'SELECT * INTO newt FROM t', 'SELECT', 'newt', 'SELECT newt t', true],
  ['begin', 'BEGIN', 'BEGIN', undefined, 'BEGIN', false],
  ['COMMIT', 'COMMIT', 'COMMIT', undefined, 'COMMIT', false],
  ['ROLLBACK', 'ROLLBACK', 'ROLLBACK', undefined, 'ROLLBACK', false],
  [
    'START TRANSACTION ISOLATION LEVEL SERIALIZABLE',
    'START TRANSACTION ISOLATION LEVEL SERIALIZABLE',
    'START',
    undefined,
    'START TRANSACTION',
    false,
  ],
  ['SELECT $1::int', 'SELECT $1::int', 'SELECT', undefined, 'SELECT', false],
  [
    'SELECT * FROM generate_series(1, 10)',
    'SELECT * FROM generate_series(?, ?)',
    'SELECT',
    undefined,
    'SELECT',
    false,
  ],
  [
    'CREATE TABLE IF NOT EXISTS s1.patients (id serial primary key)',
    'CREATE TABLE IF NOT EXISTS s1.patients(id serial PRIMARY KEY)',
    'CREATE',
    's1.patients',
    'CREATE TABLE s1.patients',
    true,
  ],
  [
    'CREATE UNIQUE INDEX CONCURRENTLY i ON ONLY patients (ssn)',
    'CREATE UNIQUE INDEX CONCURRENTLY i ON ONLY patients(ssn)',
    'CREATE',
    'patients',
    'CREATE INDEX patients',
    true,
  ],
  [
    'DROP TABLE IF EXISTS patients CASCADE',
    'DROP TABLE IF EXISTS patients CASCADE',
    'DROP',
    'patients',
    'DROP TABLE patients',
    true,
  ],
  ['TRUNCATE TABLE patients', 'TRUNCATE TABLE patients', 'TRUNCATE', 'patients', 'TRUNCATE patients', true],
  ['COPY patients TO STDOUT', 'COPY patients TO STDOUT', 'COPY', 'patients', 'COPY patients', false],
  ['COPY patients FROM STDIN', 'COPY patients FROM STDIN', 'COPY', 'patients', 'COPY patients', true],
  [
    "SELECT a FROM \"Patient Records\" WHERE x = 0x1F AND y = 1.5e-3 AND z = B'1010' AND w = U&'d\\0061t'",
    'SELECT a FROM "Patient Records" WHERE x = ? AND y = ? AND z = ? AND w = ?',
    'SELECT',
    'Patient Records',
    'SELECT Patient Records',
    false,
  ],
  ["/* a /* nested */ comment */ SELECT 'unterminated", 'SELECT ?', 'SELECT', undefined, 'SELECT', false],
  ['select $tag$ x $tag$, $$y$$ from t', 'SELECT ?, ? FROM t', 'SELECT', 't', 'SELECT t', false],
  [
    'EXPLAIN ANALYZE SELECT * FROM t',
    'EXPLAIN ANALYZE SELECT * FROM t',
    'EXPLAIN',
    't',
    'EXPLAIN SELECT t',
    false,
  ],
  ['BEGIN; SELECT 1; COMMIT', 'BEGIN; SELECT ?; COMMIT', 'BEGIN', undefined, 'BEGIN; SELECT; COMMIT', false],
  [
    'SELECT x FROM t WHERE a = ANY($1) AND b = ANY(ARRAY[1, 2, 3])',
    'SELECT x FROM t WHERE a = ANY (?) AND b = ANY (ARRAY [?])',
    'SELECT',
    't',
    'SELECT t',
    false,
  ],
  [
    "SELECT now() - interval '1 day', E'\\\\x', 'a''b'",
    'SELECT now() - interval ?, ?, ?',
    'SELECT',
    undefined,
    'SELECT',
    false,
  ],
  ['SHOW server_version', 'SHOW server_version', 'SHOW', undefined, 'SHOW', false],
  ['', '', undefined, undefined, undefined, false],
]

describe('analyzeSql', () => {
  test.each(cases)('%s', (sql, text, operation, collection, summary, write) => {
    const a = analyzeSql(sql)
    expect(a.normalized).toBe(text)
    expect(a.operation).toBe(operation)
    expect(a.collection).toBe(collection)
    expect(a.summary).toBe(summary)
    expect(a.write).toBe(write)
  })

  test('fingerprint: same for the same shape, different for a different one', () => {
    const a = analyzeSql("SELECT * FROM t WHERE id = 1 AND name = 'x'")
    const b = analyzeSql("select *  from t\nwhere id = 42 and name = 'yy' -- c")
    const c = analyzeSql("SELECT * FROM t WHERE id = 1 OR name = 'x'")
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/)
    expect(a.fingerprint).toBe(b.fingerprint)
    expect(a.fingerprint).not.toBe(c.fingerprint)
    expect(analyzeSql('SELECT 1 WHERE x IN (1, 2)').fingerprint).toBe(
      analyzeSql('SELECT 1 WHERE x IN (3)').fingerprint,
    )
  })

  test('length bound at a token boundary; the fingerprint covers the whole text', () => {
    const long = `SELECT ${Array.from({ length: 200 }, (_, i) => `col_${i}`).join(', ')} FROM t`
    const a = analyzeSql(long, 100)
    expect(a.truncated).toBe(true)
    expect(a.normalized.length).toBeLessThanOrEqual(100)
    expect(a.normalized.endsWith(' ...')).toBe(true)
    expect(a.fingerprint).not.toBe(analyzeSql(long.replace('col_199', 'other'), 100).fingerprint)
  })

  test('property: no string literal content survives, whatever surrounds it', () => {
    // A marker that cannot be an identifier or keyword, planted in every literal syntax.
    const marker = fc.stringMatching(/^[A-Za-z0-9 @.-]{1,20}$/).map((s) => `Zq${s}9`)
    const wrap = fc.constantFrom(
      (m: string) => `'${m}'`,
      (m: string) => `E'${m}\\''`,
      (m: string) => `$$${m}$$`,
      (m: string) => `$t$${m}$t$`,
      (m: string) => `U&'${m}'`,
      (m: string) => `/* ${m} */`,
      (m: string) => `-- ${m}\n`,
    )
    const around = fc.constantFrom(
      'SELECT * FROM t WHERE a = ',
      'INSERT INTO t VALUES (',
      'UPDATE t SET x = ',
      '',
    )
    fc.assert(
      fc.property(around, wrap, marker, fc.string({ maxLength: 20 }), (pre, w, m, tail) => {
        const a = analyzeSql(`${pre}${w(m)} ${tail.replace(/['"$\\*/-]/g, '')}`)
        expect(a.normalized).not.toContain(m)
        expect(a.summary ?? '').not.toContain(m)
      }),
    )
  })

  test('property: any input is analysed without throwing and bounded', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const a = analyzeSql(s, 64)
        expect(a.normalized.length).toBeLessThanOrEqual(64)
        expect(a.summary?.length ?? 0).toBeLessThanOrEqual(255)
      }),
    )
  })
})
