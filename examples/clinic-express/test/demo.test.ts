// `npm run demo` end to end: scripts/demo.mjs as a user runs it (after the build that `npm run demo`
// and `npm test` do first), against the built packages and the built `boundary-audit` CLI.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compilePolicy, pseudonymize } from '@boundary-audit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clearValuesNextToPseudonyms } from '../../../scripts/clear-ids.mjs'
import { plantedSecrets } from '../src/session.mjs'
import { expectBulkReadBlocked } from './bulk-read-checks'

const root = join(import.meta.dirname, '../../..')
let out: string
let result: { code: number | null; stdout: string; stderr: string; ms: number }

beforeAll(async () => {
  for (const built of [
    'packages/core/dist/cli.js',
    'packages/core/dist/index.js',
    'packages/pg/dist/index.js',
  ]) {
    if (!existsSync(join(root, built))) {
      throw new Error(`${built} is missing: run \`npm run build\` (npm test and npm run demo build first)`)
    }
  }
  out = mkdtempSync(join(tmpdir(), 'clinic-demo-test-'))
  const started = Date.now()
  const child = spawn(process.execPath, [join(root, 'scripts/demo.mjs'), '--out', out], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  result = { code, stdout, stderr, ms: Date.now() - started }
}, 120_000)

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true })
})

describe('npm run demo', () => {
  it('ends by itself with exit code 0, in under a minute', () => {
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
    expect(result.ms).toBeLessThan(60_000)
  })

  it('shows the session and the events it wrote', () => {
    for (const action of [
      'user-login',
      'user-logout',
      'http-request',
      'db-query',
      'patient-record-search',
      'patient-record-read',
      'patient-record-update',
      'audit-stream-start',
      'audit-stream-end',
    ]) {
      expect(result.stdout).toContain(action)
    }
    const events = readFileSync(join(out, 'audit.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const login = events.filter((e) => e.event.action === 'user-login')
    // The session's two logins and its failed one, and the bulk reader's login.
    expect(login.map((e) => e.event.outcome).sort()).toEqual(['failure', 'success', 'success', 'success'])
    const forbidden = events.find(
      (e) => e.event.action === 'patient-record-read' && e.event.outcome === 'failure',
    )
    expect(forbidden.event.reason).toBe('forbidden')
    expect(forbidden.user.roles).toEqual(['front-desk'])
    // every record is chained (format 2: linked to the one before; each sealed batch ends with a MAC,
    // the last record's among them) and keyed to the verifier key made at the start
    expect(
      events.every(
        (e, i) => e.audit?.integrity?.v === 2 && (i === 0 || typeof e.audit.integrity.prev === 'string'),
      ),
    ).toBe(true)
    expect(typeof events[events.length - 1].audit.integrity.mac).toBe('string')
    expect(events[0].audit.integrity.key).toBeDefined()
  })

  it('the bulk read trips the breadth rule: alert and block sealed in the trail, the next request refused', () => {
    const events = readFileSync(join(out, 'audit.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expectBulkReadBlocked(events, result.stdout)
  })

  it('verifies the captured log as intact, then finds both tamperings', () => {
    const verify = result.stdout.split('\n').filter((l) => /exit \d/.test(l))
    expect(verify).toEqual([
      expect.stringContaining('exit 0: intact'),
      expect.stringContaining('exit 1: tampering found'),
      expect.stringContaining('exit 1: tampering found'),
      expect.stringContaining('exit 0: complete'),
    ])
    expect(result.stdout).toMatch(/MODIFIED/i)
    expect(result.stdout).toMatch(/DELETED/i)
    expect(existsSync(join(out, 'tampered-modified.ndjson'))).toBe(true)
    expect(existsSync(join(out, 'tampered-deleted.ndjson'))).toBe(true)
  })

  it('never lets planted PHI reach the log, nor the event listing', () => {
    const log = readFileSync(join(out, 'audit.ndjson'), 'utf8').toLowerCase()
    expect(plantedSecrets().filter((s) => log.includes(s.toLowerCase()))).toEqual([])
    // The session narration shows what the client sent (PHI included, on purpose); the listing of
    // what was logged must not.
    const listing = result.stdout
      .slice(result.stdout.indexOf('\n5. '), result.stdout.indexOf('\n6. '))
      .toLowerCase()
    expect(listing).toContain('patient-record-read')
    expect(plantedSecrets().filter((s) => listing.includes(s.toLowerCase()))).toEqual([])
  })

  it('cleans up: no temporary directory or child process left behind', async () => {
    const tmp = /\/tmp\/boundary-audit-demo-\w+/.exec(result.stdout)?.[0]
    expect(tmp).toBeDefined()
    expect(existsSync(tmp!)).toBe(false)
    const pid = Number(/\(pid (\d+)\)/.exec(result.stdout)?.[1])
    expect(pid).toBeGreaterThan(0)
    expect(() => process.kill(pid, 0)).toThrow()
  })

  it('never writes a clear value next to its pseudonym (route parameters, resource ids, in any field)', () => {
    const policy = compilePolicy({ pseudonymKey: join(out, 'demo-keys', 'pseudonym.key') }, {})
    const lines = readFileSync(join(out, 'audit.ndjson'), 'utf8').trim().split('\n')
    expect(lines.join('\n')).toMatch(/ps_[0-9a-f]{6}_[0-9a-f]{24}/)
    expect(clearValuesNextToPseudonyms(lines, (v) => pseudonymize(v, policy, 'resource'))).toEqual([])
  })
})
