/**
 * The 16 KiB line cap (container runtimes split longer lines) holds for every field, lists included:
 * event.category / event.type with thousands of entries, huge user.roles, deep and wide details.
 * Every line parses, fits, and the stream still verifies with `boundary-audit verify` (the CLI as a
 * child process) on both sealing paths: inline and on the sealing thread.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { type AuditLogger, createAuditLogger, generateVerifierKeyPair } from '../src/index'
import { runCli } from './built'

const MAX_LINE = 16 * 1024
const dir = mkdtempSync(join(tmpdir(), 'ba-line-cap-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const pair = generateVerifierKeyPair()
const privateKey = join(dir, 'verifier-private.pem')
writeFileSync(privateKey, pair.privateKeyPem)

/** `boundary-audit verify --key PRIVATE FILE` as a user runs it: exit code and output. */
async function verify(file: string): Promise<{ code: number; out: string }> {
  const r = await runCli(['verify', '--key', privateKey, file])
  return { code: r.code, out: r.stdout + r.stderr }
}

type Mode = 'inline' | 'worker'

function logger(file: string, thread: Mode): AuditLogger {
  const audit = createAuditLogger({
    service: { name: 'svc', instance: 'pod-1' },
    destination: file,
    integrity: { verifierKey: pair.publicKeyPem, checkpointIntervalSeconds: 0, thread },
  })
  expect(audit.stats().sealing).toBe(thread)
  return audit
}

/** Closes, reads the file, checks every line, verifies the stream with the CLI; returns the records. */
async function finish(audit: AuditLogger, file: string, expected: number): Promise<any[]> {
  await audit.close()
  const text = readFileSync(file, 'utf8')
  expect(text.endsWith('\n')).toBe(true)
  const lines = text.slice(0, -1).split('\n')
  expect(lines).toHaveLength(expected + 2) // genesis and closing around the events
  const records = lines.map((line) => {
    expect(Buffer.byteLength(line, 'utf8') + 1).toBeLessThanOrEqual(MAX_LINE)
    return JSON.parse(line)
  })
  const result = await verify(file)
  expect(result.out).toMatch(/intact/)
  expect(result.code).toBe(0)
  return records.slice(1, -1)
}

const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i))

describe.each<Mode>(['inline', 'worker'])('16 KiB cap, %s sealing', (thread) => {
  it('lists of 3,000 and 100,000 entries, huge roles, deep and wide details', async () => {
    const file = join(dir, `cases-${thread}.ndjson`)
    const audit = logger(file, thread)
    for (const n of [3000, 100_000]) {
      const web = many(n, () => 'web')
      audit.event({ action: 'bulk', category: web as never, type: many(n, () => 'info') as never })
      audit.access({
        action: 'patient-record-read',
        resource: { type: 'patient', id: 'p1' },
        category: many(n, (i) => `cat-${i}`) as never,
      })
      audit.login({
        actor: { id: 'u1', roles: many(n, (i) => `role-${i}-${'r'.repeat(300)}`) },
        outcome: 'success',
      })
    }
    audit.event({
      action: 'deep',
      category: 'process',
      type: 'info',
      details: {
        wide: many(100, () => many(100, () => 1234567890.123456)),
        deep: JSON.parse(`${'['.repeat(200)}"x"${']'.repeat(200)}`),
        keys: Object.fromEntries(many(5000, (i) => [`k${i}`, many(50, () => 'v'.repeat(60))])),
      },
    })
    const records = await finish(audit, file, 7)
    for (const r of records.slice(0, 6)) {
      expect(r.event.category.length).toBeLessThanOrEqual(16)
      expect(r.event.type.length).toBeLessThanOrEqual(16)
      expect(r.audit.truncated).toBe(true)
    }
    expect(records[0].event.category).toEqual(many(16, () => 'web'))
    expect(records[1].event.category).toEqual(many(16, (i) => `cat-${i}`))
    expect(records[2].user.id).toBe('u1')
    expect(records[6].event.action).toBe('deep')
  })

  it('property: any record through any event call yields lines that parse, fit and verify', async () => {
    const file = join(dir, `property-${thread}.ndjson`)
    const audit = logger(file, thread)
    let count = 0
    // A long list is built from a seed string rather than generated entry by entry (fast).
    const bigList = fc
      .record({
        n: fc.oneof(fc.nat(20), fc.nat(5000), fc.constant(100_000)),
        s: fc.string({ maxLength: 50 }),
      })
      .map(({ n, s }) => many(n, (i) => `${s}${i}`))
    const bigText = fc
      .record({ s: fc.string({ unit: 'binary', maxLength: 40 }), times: fc.nat(3000) })
      .map(({ s, times }) => s.repeat(times))
    const list = fc.oneof(bigList, fc.array(fc.string({ unit: 'binary' }), { maxLength: 40 }), fc.string())
    const details = fc.oneof(
      fc.anything({
        maxDepth: 12,
        maxKeys: 60,
        withBigInt: true,
        withMap: true,
        withSet: true,
        withDate: true,
      }),
      fc.record({
        a: bigList,
        b: bigText,
        c: fc.array(fc.array(fc.double(), { maxLength: 200 }), { maxLength: 60 }),
      }),
    )
    const input = fc.record(
      {
        action: fc.oneof(fc.string(), bigText),
        category: list,
        type: list,
        outcome: fc.constantFrom('success', 'failure', 'unknown'),
        message: bigText,
        reason: bigText,
        details,
        actor: fc.record(
          { id: fc.oneof(fc.string(), bigText), roles: list, name: bigText },
          { requiredKeys: ['id'] },
        ),
        resource: fc.record({ type: fc.string(), id: bigText }),
        purpose: bigText,
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(input, fc.constantFrom('event', 'access', 'login', 'logout'), (i, call) => {
        const before = audit.stats().accepted
        ;(audit as unknown as Record<string, (x: unknown) => void>)[call]!(i)
        expect(audit.stats().accepted).toBe(before + 1)
        count++
      }),
      { numRuns: 150 },
    )
    await finish(audit, file, count)
  })
})
