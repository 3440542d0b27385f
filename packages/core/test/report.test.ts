/**
 * Issue 15 item 2/3: `boundary-audit report`. Counts equal a brute-force count over random small
 * trails (actors, patients, windows, deletions, duplicates, reordering); a deleted or altered record
 * in the window makes the report incomplete (exit 1); every input shape verify reads gives the same
 * report; the CLI as a user runs it (child process, real files).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { hmacPseudonym } from '../src/redact/pseudonymize'
import {
  createEvidenceReport,
  type EvidenceOptions,
  type EvidenceReport,
} from '../src/verify/report/evidence'
import { runCli } from './built'
import { keys, makeTrail, type TrailEvent } from './trail'

const privateKey = keys.privateKeyPem
const pseudonymKey = Buffer.from('a pseudonym secret of the clinic, 32+ bytes')
const T0 = Date.parse('2026-11-02T09:00:00Z')
const dir = mkdtempSync(join(tmpdir(), 'ba-report-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ps = (clear: string) => hmacPseudonym(pseudonymKey, 'resource', clear)
/** The same pseudonym as trails written before key ids hold it. */
const legacy = (clear: string) => ps(clear).replace(/^ps_[0-9a-f]{6}_/, 'ps_')

function report(lines: string[], o: EvidenceOptions = {}): EvidenceReport {
  const c = createEvidenceReport({ privateKey, pseudonymKeys: [pseudonymKey], ...o })
  for (const l of lines) c.push(l)
  return c.end()
}

interface Planned {
  actor: string
  patient?: string
  time: number
}

/** Brute force: per individual and actor, over the records present (each once), in the window. */
function bruteForce(
  present: Planned[],
  o: { actors?: string[]; from?: number; to?: number; patients?: string[] },
) {
  const byInd = new Map<string, number>()
  const byActor = new Map<string, Set<string>>()
  let records = 0
  for (const p of present) {
    if (p.patient === undefined) continue
    if (o.from !== undefined && p.time < o.from) continue
    if (o.to !== undefined && p.time > o.to) continue
    if (o.actors && !o.actors.includes(p.actor)) continue
    if (o.patients && !o.patients.includes(p.patient)) continue
    records++
    byInd.set(ps(p.patient), (byInd.get(ps(p.patient)) ?? 0) + 1)
    const s = byActor.get(p.actor) ?? new Set()
    s.add(p.patient)
    byActor.set(p.actor, s)
  }
  return {
    records,
    individuals: byInd.size,
    byIndividual: [...byInd.entries()].sort((a, b) => a[0].localeCompare(b[0])),
    byActor: [...byActor.entries()]
      .map(([id, s]) => [id, s.size] as const)
      .sort((a, b) => a[0].localeCompare(b[0])),
  }
}

const STEP = 1000

describe('property: report equals a brute-force count', () => {
  const event = fc.record({
    actor: fc.constantFrom('dr-a', 'dr-b', 'nurse-c'),
    patient: fc.option(fc.constantFrom('MRN-1', 'MRN-2', 'MRN-3', 'MRN-4', 'MRN-5'), { nil: undefined }),
  })
  it('over actors, patients, windows, deletions, duplicates and reordering', () => {
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 40 }),
        fc.array(event, { maxLength: 20 }),
        fc.record({
          from: fc.option(fc.integer({ min: 0, max: 45 }), { nil: undefined }),
          span: fc.integer({ min: 0, max: 45 }),
          actor: fc.option(fc.constantFrom('dr-a', 'nurse-c'), { nil: undefined }),
          patient: fc.option(fc.constantFrom('MRN-2', 'MRN-5'), { nil: undefined }),
          delete: fc.option(fc.nat(), { nil: undefined }),
          duplicates: fc.array(fc.nat(), { maxLength: 5 }),
          shuffle: fc.boolean(),
        }),
        (first, second, c) => {
          const trails = [first, second]
            .filter((evs) => evs.length > 0)
            .map((evs, s) => {
              const t = makeTrail(
                evs.map((e): TrailEvent => ({ actor: e.actor, patient: e.patient && ps(e.patient) })),
                { start: T0 + s * 500, step: STEP, instance: `pod-${s}` },
              )
              // lines[0] is the genesis; event k is line k+1 (no checkpoint: the interval is longer than the trail)
              const planned = evs.map((e, k) => ({ ...e, time: t.times[k + 1]!, line: k + 1, stream: s }))
              return { t, planned }
            })
          let lines = trails.flatMap(({ t }) => t.lines)
          let present = trails.flatMap(({ planned }) => planned)
          let deleted: Planned | undefined
          if (c.delete !== undefined) {
            const victim = present[c.delete % present.length]!
            deleted = victim
            const stream = trails[(victim as { stream: number }).stream]!.t
            const text = stream.lines[(victim as { line: number }).line]!
            lines = lines.filter((l) => l !== text)
            present = present.filter((p) => p !== victim)
          }
          for (const d of c.duplicates) lines.push(lines[d % lines.length]!)
          if (c.shuffle) lines = [...lines].sort((a, b) => (hash(a) < hash(b) ? -1 : 1))
          const from = c.from === undefined ? undefined : T0 + c.from * STEP
          const to = from === undefined ? undefined : from + c.span * STEP
          const o = {
            actors: c.actor ? [c.actor] : undefined,
            from,
            to,
            patients: c.patient ? [c.patient] : undefined,
          }
          const r = report(lines, o)
          const want = bruteForce(present, o)
          expect(r.records).toBe(want.records)
          expect(r.individuals).toBe(want.individuals)
          expect(
            r.byIndividual
              .map((i) => [i.id, i.records])
              .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
          ).toEqual(want.byIndividual)
          expect(
            r.byActor
              .map((a) => [a.id, a.individuals])
              .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
          ).toEqual(want.byActor)
          if (!deleted) expect(r.complete).toBe(true)
          const inWindow = deleted && (from === undefined || (deleted.time >= from && deleted.time <= to!))
          if (inWindow) expect(r.complete).toBe(false)
          expect(r.exitCode).toBe(r.complete ? 0 : 1)
        },
      ),
      { numRuns: 60 },
    )
  })
})

function hash(s: string): string {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return (h >>> 0).toString(16).padStart(8, '0')
}

/** Dr A reads patients 1-3 in the morning; dr B reads 3; a request with an id in its path and no access event. */
const day = makeTrail(
  [
    { actor: 'dr-a', patient: ps('MRN-1'), requestId: 'r1' },
    {
      actor: 'dr-a',
      patient: legacy('MRN-2'),
      requestId: 'r2',
      session: hmacPseudonym(pseudonymKey, 'session', 'sess-9'),
    },
    { actor: 'dr-a', path: `/patients/${ps('MRN-2')}`, requestId: 'r2' },
    { actor: 'dr-a', patient: ps('MRN-3'), action: 'patient-record-update', ip: '10.1.2.3' },
    { actor: 'dr-b', patient: ps('MRN-3') },
    { actor: 'dr-a', path: `/patients/${ps('MRN-4')}/chart`, requestId: 'r9' },
    { actor: 'dr-a', patient: ps('MRN-1') },
  ],
  { start: T0, step: 60_000, interval: 600 },
)

describe('the evidence report', () => {
  it('who dr A reached, by pseudonym (both forms), with the requests that named no individual', () => {
    const r = report(day.lines, { actors: ['dr-a'] })
    expect(r).toMatchObject({ complete: true, exitCode: 0, records: 4, individuals: 3 })
    expect(r.byIndividual.map((i) => [i.id, i.records, i.actions])).toEqual([
      [ps('MRN-1'), 2, ['patient-record-read']],
      [legacy('MRN-2'), 1, ['patient-record-read']],
      [ps('MRN-3'), 1, ['patient-record-update']],
    ])
    expect(r.byActor).toEqual([{ id: 'dr-a', records: 4, individuals: 3 }])
    expect(r.requestsWithoutAccessEvent.map((q) => q.path)).toEqual([`/patients/${ps('MRN-4')}/chart`])
    expect(r.findings).toEqual([])
  })

  it('who reached a patient, given in clear; sessions and IPs', () => {
    const r = report(day.lines, { patients: ['MRN-3'] })
    expect(r.byIndividual).toMatchObject([
      { id: ps('MRN-3'), patient: 'MRN-3', records: 2, actors: ['dr-a', 'dr-b'] },
    ])
    expect(report(day.lines, { patients: ['MRN-2'] }).byIndividual).toMatchObject([
      { id: legacy('MRN-2'), records: 1 },
    ])
    expect(report(day.lines, { sessions: ['sess-9'] }).records).toBe(1)
    expect(report(day.lines, { ips: ['10.1.2.3'] }).records).toBe(1)
  })

  it('a window: only the records inside it', () => {
    const r = report(day.lines, { from: T0 + 150_000, to: T0 + 300_000 })
    expect(r.records).toBe(2)
  })

  it('a deleted or altered record in the window: incomplete, exit 1, and the findings say why', () => {
    const deleted = day.lines.filter((_, i) => i !== 4)
    const d = report(deleted, { actors: ['dr-a'] })
    expect(d).toMatchObject({ complete: false, exitCode: 1 })
    expect(d.findings.map((f) => f.kind)).toEqual(['deleted'])
    const altered = [...day.lines]
    altered[1] = altered[1]!.replace('"dr-a"', '"dr-x"')
    const a = report(altered, { actors: ['dr-a'] })
    expect(a).toMatchObject({ complete: false, exitCode: 1, records: 3 })
    expect(a.findings.map((f) => f.kind)).toEqual(['modified'])
  })

  it('without the verifier key nothing is verified: incomplete', () => {
    const c = createEvidenceReport({ pseudonymKeys: [pseudonymKey] })
    for (const l of day.lines) c.push(l)
    expect(c.end()).toMatchObject({ complete: false, exitCode: 1 })
  })

  it('every input shape verify reads gives the same report', () => {
    const base = report(day.lines)
    const docs = day.lines.map((l) => JSON.parse(l))
    const shapes: Record<string, string[]> = {
      cri: day.lines.map((l) => `2026-11-02T09:00:00.000000000Z stdout F ${l}`),
      'cri partial': day.lines.flatMap((l) => [
        `2026-11-02T09:00:00.000000000Z stdout P ${l.slice(0, 100)}`,
        `2026-11-02T09:00:00.000000000Z stdout F ${l.slice(100)}`,
      ]),
      docker: day.lines.map((l) =>
        JSON.stringify({ log: `${l}\n`, stream: 'stdout', time: '2026-11-02T09:00:00Z' }),
      ),
      'fluent bit merged': docs.map((d, i) =>
        JSON.stringify({ ...d, kubernetes: { pod_name: 'p' }, log: day.lines[i] }),
      ),
      'fluentd out_file': day.lines.map((l) => `2026-11-02T09:00:00+00:00\tkube.var.log\t${l}`),
      'es hits': docs.map((d, i) => JSON.stringify({ _index: 'a', _id: String(i), _source: d })),
      'es search page': [JSON.stringify({ hits: { hits: docs.map((d) => ({ _source: d })) } })],
      'es pretty': JSON.stringify(
        { hits: { hits: docs.reverse().map((d) => ({ _source: d })) } },
        null,
        2,
      ).split('\n'),
    }
    for (const [name, lines] of Object.entries(shapes)) {
      const r = report(lines)
      expect([name, r.complete, r.records, r.byIndividual]).toEqual([
        name,
        true,
        base.records,
        base.byIndividual,
      ])
    }
  })
})

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env })

describe('boundary-audit report (CLI)', () => {
  const keyFile = join(dir, 'verifier-private.pem')
  const pseudonymFile = join(dir, 'pseudonym.key')
  const file = join(dir, 'trail.ndjson')
  writeFileSync(keyFile, privateKey)
  writeFileSync(pseudonymFile, `${pseudonymKey.toString('utf8')}\n`)
  writeFileSync(file, `${day.lines.join('\n')}\n`)

  it('--json: the contract fields; exit 0 when complete', async () => {
    const r = await run([
      'report',
      '--key',
      keyFile,
      '--pseudonym-key',
      pseudonymFile,
      '--patient',
      'MRN-3',
      '--json',
      file,
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(Object.keys(j)).toEqual(
      expect.arrayContaining(['complete', 'records', 'individuals', 'byIndividual', 'byActor', 'findings']),
    )
    expect(j).toMatchObject({ complete: true, records: 2, individuals: 1 })
    expect(Object.keys(j.byIndividual[0])).toEqual(
      expect.arrayContaining(['id', 'records', 'first', 'last', 'actions']),
    )
    expect(Object.keys(j.byActor[0])).toEqual(['id', 'records', 'individuals'])
  })

  it('--csv one row per individual, the key from BOUNDARY_AUDIT_PSEUDONYM_KEY; human table; exit 1 when incomplete', async () => {
    const csv = await run(['report', '--key', keyFile, '--actor', 'dr-a', '--csv', file], {
      BOUNDARY_AUDIT_PSEUDONYM_KEY: pseudonymFile,
    })
    expect(csv.code).toBe(0)
    const rows = csv.stdout.trimEnd().split('\r\n')
    expect(rows[0]).toBe('individual,given_as,records,first,last,actions,actors')
    expect(rows).toHaveLength(4)
    writeFileSync(join(dir, 'cut.ndjson'), `${day.lines.filter((_, i) => i !== 3).join('\n')}\n`)
    const human = await run(['report', '--key', keyFile, '--actor', 'dr-a', join(dir, 'cut.ndjson')])
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/^INCOMPLETE: at least 3 individual\(s\) reached in 4 record\(s\)/m)
    expect(human.stdout).toMatch(/deleted: seq 3 missing/)
  })

  it('exit 2 on a usage error or an unreadable input', async () => {
    expect((await run(['report', '--from', 'yesterday', file])).code).toBe(2)
    expect((await run(['report', '--json', '--csv', file])).code).toBe(2)
    const missing = await run(['report', '--key', keyFile, join(dir, 'missing.ndjson')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot read .*ENOENT/)
    expect((await run(['report', '--pseudonym-key', './no-such-key', file])).code).toBe(2)
  })
})
