/**
 * `boundary-audit report --rules`: the privacy monitor's rules replayed over an export in the same
 * pass as verification agree with what the live monitor raised on the same history; only authentic
 * records of the window are judged; bad rules are a usage error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/index'
import type { CliIO } from '../src/cli/io'
import { capture, readPatient } from './helpers'
import { keys } from './trail'

const dir = mkdtempSync(join(tmpdir(), 'ba-report-rules-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const KEY = 'report-rules-test-pseudonym-key-0123'
const keyFile = join(dir, 'verifier.pem')
writeFileSync(keyFile, keys.privateKeyPem)

const monitor = {
  breadth: { threshold: 3, windowSeconds: 3600 },
  watched: { ids: ['VIP-7'] },
  enforcement: { block: ['breadth'] },
}
const rulesFile = join(dir, 'rules.json')
writeFileSync(rulesFile, JSON.stringify(monitor))

// The live side: a keyed chain (inline sealing, so every line is in `lines` at once) and the monitor.
const { audit, lines, events } = capture({
  redaction: { pseudonymKey: KEY },
  integrity: { verifierKey: keys.publicKeyPem, thread: 'inline' },
  monitor,
})
for (let i = 0; i < 6; i++) readPatient(audit, 'bulk', `MRN-${i}`)
readPatient(audit, 'nosy', 'VIP-7')
readPatient(audit, 'calm', 'MRN-1')
const live = events()
  .filter((e) => e.event.kind === 'alert')
  .map((e) => ({ rule: e.rule.name, actor: e.user.id }))

async function report(args: string[]) {
  let stdout = ''
  let stderr = ''
  const io: CliIO = {
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
    stdin: async function* () {},
  }
  const code = await main(['report', ...args], io)
  return { code, stdout, stderr }
}

describe('report --rules', () => {
  const trail = join(dir, 'trail.ndjson')
  writeFileSync(trail, lines.join(''))

  it('raises the alerts the live monitor raised, over the verified export', async () => {
    expect(live).toEqual([
      { rule: 'breadth', actor: 'bulk' },
      { rule: 'watched', actor: 'nosy' },
    ])
    const r = await report(['--key', keyFile, '--pseudonym-key', KEY, '--rules', rulesFile, '--json', trail])
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout)
    expect(out.monitor.alerts.map((a: any) => ({ rule: a.rule, actor: a.actor }))).toEqual(live)
    expect(out.monitor.alerts[0]).toMatchObject({ count: 4, threshold: 3, enforcement: ['block'] })
    expect(out.monitor.recordedAlerts).toBe(2)
    expect(out.monitor.accesses).toBe(8)
    // Unsealed (the chain is not closed) yet every record present: complete up to the last one.
    expect(out.complete).toBe(true)
    expect(r.code).toBe(0)
  })

  it('text output names the alerts, never a clear identifier', async () => {
    const r = await report(['--key', keyFile, '--pseudonym-key', KEY, '--rules', rulesFile, trail])
    expect(r.stdout).toMatch(
      /monitor rules replayed over \d+ authentic record\(s\) \(8 accesses\): 2 alert\(s\) \(breadth 1, watched 1\); the live monitor wrote 2/,
    )
    expect(r.stdout).toMatch(/breadth\s+bulk\s+.*would block/)
    expect(r.stdout).not.toMatch(/MRN-|VIP-7/)
  })

  it('a forged record is not judged: only authentic records count', async () => {
    // A copy of nosy's access to VIP-7 made to look like calm's: its MAC fails, so no alert for calm.
    const forged = lines.map((l) => l)
    const i = forged.findIndex((l) => l.includes('"id":"calm"'))
    forged[i] = forged[i]!.replace(/"resource":\{"id":"[^"]+"/, () => {
      const vip = lines.find((l) => l.includes('"id":"nosy"') && l.includes('"resource"'))!
      return vip.match(/"resource":\{"id":"[^"]+"/)![0]
    })
    expect(forged[i]).not.toBe(lines[i])
    const file = join(dir, 'forged.ndjson')
    writeFileSync(file, forged.join(''))
    const r = await report(['--key', keyFile, '--pseudonym-key', KEY, '--rules', rulesFile, '--json', file])
    const out = JSON.parse(r.stdout)
    expect(r.code).toBe(1)
    expect(out.complete).toBe(false)
    expect(out.monitor.accesses).toBe(7)
    expect(out.monitor.alerts.map((a: any) => a.actor)).toEqual(['bulk', 'nosy'])
  })

  it('the window limits what is judged', async () => {
    const first = events().find((e) => e.user?.id === 'nosy')!['@timestamp']
    const r = await report([
      '--key',
      keyFile,
      '--pseudonym-key',
      KEY,
      '--rules',
      rulesFile,
      '--json',
      '--from',
      first,
      trail,
    ])
    const out = JSON.parse(r.stdout)
    expect(out.monitor.alerts.map((a: any) => a.rule)).toEqual(['watched'])
  })

  it("bad rules: exit 2 with createAuditLogger()'s message, before reading input", async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ breadth: { threshold: -1 } }))
    const r = await report(['--key', keyFile, '--rules', bad, join(dir, 'does-not-matter.ndjson')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/breadth.threshold must be a positive integer/)
  })
})
