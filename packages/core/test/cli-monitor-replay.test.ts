/**
 * `boundary-audit monitor-replay` as a privacy officer runs it: a child process over a trail the
 * live monitor wrote, with a rules module holding thresholds and a custom rule function.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './built'
import { capture, readPatient } from './helpers'

const dir = mkdtempSync(join(tmpdir(), 'ba-replay-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const KEY = 'cli-replay-test-pseudonym-key-0123'

const run = (args: string[]) => runCli(args, { env: { BOUNDARY_AUDIT_PSEUDONYM_KEY: '' } })

describe('boundary-audit monitor-replay', () => {
  const rulesModule = join(dir, 'rules.mjs')
  writeFileSync(
    rulesModule,
    `export default {
      breadth: { threshold: 3, windowSeconds: 3600 },
      watched: { ids: ['VIP-7'] },
      rules: [{ name: 'exports', check: (a) => a.action.endsWith('-export') ? { message: 'exported a record' } : undefined }],
      enforcement: { block: ['breadth'] },
    }\n`,
  )
  const { audit, lines, events } = capture({
    redaction: { pseudonymKey: KEY },
    monitor: {
      breadth: { threshold: 3, windowSeconds: 3600 },
      watched: { ids: ['VIP-7'] },
      rules: [
        {
          name: 'exports',
          check: (a) => (a.action.endsWith('-export') ? { message: 'exported a record' } : undefined),
        },
      ],
      enforcement: { block: ['breadth'] },
    },
  })
  for (let i = 0; i < 6; i++) {
    readPatient(audit, 'bulk', `MRN-${i}`)
  }
  readPatient(audit, 'nosy', 'VIP-7')
  audit.access({
    action: 'patient-record-export',
    resource: { type: 'patient', id: 'MRN-1' },
    actor: { id: 'exp' },
  })
  const trail = join(dir, 'trail.ndjson')
  writeFileSync(trail, lines.join(''))
  const live = events()
    .filter((e) => e.event.kind === 'alert')
    .map((e) => ({ rule: e.rule.name, actor: e.user.id }))

  it('--json: the alerts the live monitor wrote, from the same rules (custom functions included)', async () => {
    expect(live).toEqual([
      { rule: 'breadth', actor: 'bulk' },
      { rule: 'watched', actor: 'nosy' },
      { rule: 'exports', actor: 'exp' },
    ])
    const r = await run(['monitor-replay', '--rules', rulesModule, '--pseudonym-key', KEY, '--json', trail])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.alerts.map((a: any) => ({ rule: a.rule, actor: a.actor }))).toEqual(live)
    expect(out.recordedAlerts).toBe(3)
    expect(out.alerts[0]).toMatchObject({ count: 4, threshold: 3, enforcement: ['block'] })
  })

  it('text output, standard input, and a JSON rules file with other thresholds', async () => {
    const json = join(dir, 'rules.json')
    writeFileSync(json, JSON.stringify({ breadth: { threshold: 5 } }))
    const r = await runCli(['monitor-replay', '--rules', json, '-'], { stdin: lines.join('') })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/1 alert\(s\) \(breadth 1\)/)
    expect(r.stdout).toMatch(/breadth\s+bulk\s+reached more than 5 individuals/)
    expect(r.stdout).not.toMatch(/MRN-/)
  })

  it('usage errors exit 2 with a message saying what to change', async () => {
    expect((await run(['monitor-replay', trail])).stderr).toMatch(/--rules FILE is required/)
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ breadth: { threshold: -1 } }))
    const r = await run(['monitor-replay', '--rules', bad, trail])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/breadth.threshold must be a positive integer/)
    const ids = await run(['monitor-replay', '--rules', rulesModule, trail])
    expect(ids.code).toBe(2)
    expect(ids.stderr).toMatch(/watched.ids needs a pseudonym key/)
  })
})
