// The Nest clinic through the demo (`scripts/demo.mjs --app nest`): the same scripted session as
// the Express clinic, against the built app (tsc with decorator metadata) and the built packages.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compilePolicy, pseudonymize } from '@boundary-audit/core'
import { plantedSecrets } from '@boundary-audit/example-clinic-express/session'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clearValuesNextToPseudonyms } from '../../../scripts/clear-ids.mjs'
import { expectBulkReadBlocked } from '../../clinic-express/test/bulk-read-checks.js'

const root = join(import.meta.dirname, '../../..')
let out: string
let stdout = ''
let code: number | null
let events: any[]

beforeAll(async () => {
  for (const built of [
    'examples/clinic-nest/dist/main.js',
    'packages/core/dist/cli.js',
    'packages/nestjs/dist/index.js',
  ]) {
    if (!existsSync(join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` first`)
  }
  out = mkdtempSync(join(tmpdir(), 'clinic-nest-test-'))
  const child = spawn(process.execPath, [join(root, 'scripts/demo.mjs'), '--app', 'nest', '--out', out], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  child.stdout.on('data', (d) => {
    stdout += d
  })
  code = await new Promise((resolve) => child.on('close', resolve))
  events = readFileSync(join(out, 'audit.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
}, 120_000)

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true })
})

describe('clinic-nest through the demo', () => {
  it('runs the session, verifies intact and finds both tamperings', () => {
    expect(code, stdout).toBe(0)
    expect(stdout).toContain('exit 0: intact')
    expect(stdout.match(/exit 1: tampering found/g)).toHaveLength(2)
  })

  it('writes @Audit access events with the actor, for allowed and refused requests', () => {
    const reads = events.filter((e) => e.event.action === 'patient-record-read')
    expect(reads.map((e) => e.event.outcome)).toEqual(expect.arrayContaining(['success', 'failure']))
    const refused = reads.find((e) => e.event.outcome === 'failure' && e.user?.roles?.includes('front-desk'))
    expect(refused).toBeDefined()
    expect(refused.audit.resource.id).toMatch(/^ps_/)
    const update = events.find((e) => e.event.action === 'patient-record-update')
    expect(update.event.type).toEqual(['change'])
    expect(update.user.name).toBe('gregory.house')
    // every request of a logged-in user names them, and Nest's handler is on the http event
    const http = events.filter(
      (e) => e.event.action === 'http-request' && e.http.response.status_code === 200,
    )
    expect(http.length).toBeGreaterThan(3)
    for (const e of http) expect(e.user?.id).toMatch(/^Ci/)
    expect(http.some((e) => e.audit?.handler?.controller === 'PatientsController')).toBe(true)
  })

  it('writes the same kinds of events as the Express clinic', () => {
    const actions = new Set(events.map((e) => e.event.action))
    for (const a of [
      'audit-stream-start',
      'user-login',
      'http-request',
      'db-query',
      'patient-record-search',
      'patient-record-list',
      'patient-record-read',
      'patient-record-update',
      'user-logout',
      'audit-stream-end',
    ]) {
      expect(actions.has(a), a).toBe(true)
    }
  })

  it('the bulk read trips the breadth rule: alert and block sealed in the trail, the next request refused', () => {
    expect(stdout).toContain('4b')
    // Refused after Nest's guards authenticated the account (the interceptor), before the handler.
    expectBulkReadBlocked(events, stdout)
  })

  it('never writes the planted PHI, nor a patient id in clear', () => {
    const log = readFileSync(join(out, 'audit.ndjson'), 'utf8').toLowerCase()
    expect(log).not.toMatch(/\/patients\/[0-9a-f]{8}-[0-9a-f]{4}-/)
    expect(log).toMatch(/\/patients\/ps_[0-9a-f]{6}_[0-9a-f]{24}/)
    expect(plantedSecrets().filter((s: string) => log.includes(s.toLowerCase()))).toEqual([])
  })

  it('never writes a clear value next to its pseudonym (route parameters, resource ids, in any field)', () => {
    const policy = compilePolicy({ pseudonymKey: join(out, 'demo-keys', 'pseudonym.key') }, {})
    const lines = readFileSync(join(out, 'audit.ndjson'), 'utf8').trim().split('\n')
    expect(clearValuesNextToPseudonyms(lines, (v) => pseudonymize(v, policy, 'resource'))).toEqual([])
  })
})
