/**
 * The `boundary-audit` CLI as a user runs it: a child process running the built bin (test/built.ts),
 * real files, exit codes 0 / 1 / 2.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChain } from '../src/integrity/index'
import { compilePolicy, loadPseudonymKey, pseudonymize, pseudonymKeyId } from '../src/redact/index'
import { type CliRun, runCli } from './built'

const dir = mkdtempSync(join(tmpdir(), 'ba-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const run = (args: string[], stdin?: string): Promise<CliRun> => runCli(args, { stdin })

const keys = join(dir, 'keys')
let logFile: string
let lines: string[]

beforeAll(async () => {
  const r = await run(['keygen', '--out', keys])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  let t = Date.parse('2026-11-29T00:00:00Z')
  const chain = createChain({
    service: { name: 'svc', instance: 'pod-1' },
    verifierKey: join(keys, 'verifier-public.pem'),
    checkpointIntervalSeconds: 60,
    now: () => t,
  })
  lines = [chain.seal(chain.genesis())]
  for (let i = 0; i < 200; i++) {
    t += 250
    lines.push(
      chain.seal({
        '@timestamp': new Date(t).toISOString(),
        'log.level': i % 10 === 0 ? 'warn' : 'info',
        message: i === 5 ? 'evil \u001b[2J\u001b[31mred\nnewline' : `GET /patients/:id 200`,
        event: { action: 'http-request', outcome: 'success', duration: 2_000_000 },
        user: { id: `u${i % 3}` },
      }),
    )
  }
  lines.push(chain.seal(chain.closing()))
  logFile = join(dir, 'audit.ndjson')
  writeFileSync(logFile, `${lines.join('\n')}\n`)
}, 60_000)

describe('keygen', () => {
  it('wrote the key pair, the private key readable by its owner only', () => {
    expect(readFileSync(join(keys, 'verifier-public.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    expect(readFileSync(join(keys, 'verifier-private.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    expect(statSync(join(keys, 'verifier-private.pem')).mode & 0o777).toBe(0o600)
  })

  it('wrote a pseudonym key (0600) that the logger takes as a path and names in its pseudonyms', async () => {
    const path = join(keys, 'pseudonym.key')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const text = readFileSync(path, 'utf8')
    expect(text).toMatch(/^[0-9a-f]{64}\n$/)
    const key = loadPseudonymKey(path)
    expect(key.equals(Buffer.from(text.trim(), 'utf8'))).toBe(true)
    const kid = pseudonymKeyId(key)
    const r = await run(['keygen', '--out', join(dir, 'keys2')])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`pseudonym key `)
    const other = pseudonymKeyId(loadPseudonymKey(join(dir, 'keys2', 'pseudonym.key')))
    expect(other).not.toBe(kid) // a fresh secret each time
    const viaPath = pseudonymize(
      'p-1001',
      compilePolicy(undefined, { BOUNDARY_AUDIT_PSEUDONYM_KEY: path }),
      'resource',
    )
    const viaText = pseudonymize('p-1001', compilePolicy({ pseudonymKey: text.trim() }, {}), 'resource')
    expect(viaPath).toBe(viaText)
    expect(viaPath).toMatch(new RegExp(`^ps_${kid}_[0-9a-f]{24}$`))
  })

  it('refuses to overwrite an existing key, and needs --out (exit 2)', async () => {
    const before = readFileSync(join(keys, 'verifier-private.pem'), 'utf8')
    const secret = readFileSync(join(keys, 'pseudonym.key'), 'utf8')
    const again = await run(['keygen', '--out', keys])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already exists/)
    expect(readFileSync(join(keys, 'verifier-private.pem'), 'utf8')).toBe(before)
    expect(readFileSync(join(keys, 'pseudonym.key'), 'utf8')).toBe(secret)
    const none = await run(['keygen'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/--out/)
  })
})

describe('verify', () => {
  const key = () => ['--key', join(keys, 'verifier-private.pem')]

  it('exit 0 on an intact log, and says so', async () => {
    const r = await run(['verify', ...key(), logFile])
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^intact: 1 stream\(s\), 202 records, every MAC checked$/m)
    expect(r.code).toBe(0)
  })

  it('exit 1 on tampering, naming it (human and --json), reading standard input', async () => {
    const m = [...lines]
    m[50] = m[50]!.replace('"u1"', '"u2"').replace('"u0"', '"u2"')
    m.splice(120, 5)
    const human = await run(['verify', ...key(), '-'], m.join('\n'))
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/MODIFIED: seq 50/)
    expect(human.stdout).toMatch(/DELETED: seq 120-124 \(5 records\) missing/)
    expect(human.stdout).toMatch(/TAMPERING OR GAPS FOUND/)
    const json = await run(['verify', ...key(), '--json'], m.join('\n'))
    expect(json.code).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report.exitCode).toBe(1)
    expect(report.findings.map((f: { kind: string }) => f.kind).sort()).toEqual(['deleted', 'modified'])
  })

  it('exit 2 without the key for a keyed log, for an unreadable file, and for a bad option', async () => {
    const nokey = await run(['verify', logFile])
    expect(nokey.code).toBe(2)
    expect(nokey.stdout).toMatch(/pass --key/)
    const missing = await run(['verify', ...key(), join(dir, 'missing.ndjson')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot read .*ENOENT/)
    const bad = await run(['verify', '--frobnicate', logFile])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/Unknown option '--frobnicate'/)
    const badKey = await run(['verify', '--key', join(keys, 'verifier-public.pem'), logFile])
    expect(badKey.code).toBe(2)
    expect(badKey.stderr).toMatch(/private key/)
    const unknown = await run(['frobnicate'])
    expect(unknown.code).toBe(2)
  })
})

describe('pretty', () => {
  it('prints one line per event, with control characters escaped', async () => {
    const r = await run(['pretty', logFile])
    expect(r.code).toBe(0)
    const out = r.stdout.trimEnd().split('\n')
    expect(out).toHaveLength(lines.length)
    expect(out[0]).toMatch(
      /^2026-11-29T00:00:00\.000Z INFO +audit-stream-start +success +- +audit stream started/,
    )
    expect(out[1]).toMatch(/WARN +http-request +success +u0 +GET \/patients\/:id 200 {2}2\.0 ms {2}#1$/)
    expect(r.stdout).not.toContain('\u001b')
    expect(out[6]).toContain('evil \\x1b[2J\\x1b[31mred\\x0anewline')
  })
  it('shows the request id and the SQLSTATE of a failed query', async () => {
    const file = join(dir, 'pretty-db.ndjson')
    const base = {
      '@timestamp': '2026-11-29T00:00:00.000Z',
      'log.level': 'warn',
      http: { request: { id: 'req-7' } },
    }
    writeFileSync(
      file,
      [
        {
          ...base,
          message: 'INSERT patients',
          event: { action: 'db-query', outcome: 'failure' },
          db: { response: { status_code: '23505' } },
          error: { type: 'DatabaseError', code: '23505' },
        },
        {
          ...base,
          message: 'GET /patients 500',
          event: { action: 'http-request', outcome: 'failure' },
          error: { type: 'DatabaseError', code: '23505' },
        },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    )
    const r = await run(['pretty', file])
    const out = r.stdout.trimEnd().split('\n')
    expect(out[0]).toMatch(/INSERT patients {2}req req-7 {2}SQLSTATE 23505$/)
    expect(out[1]).toMatch(/GET \/patients 500 {2}req req-7$/)
  })
})
