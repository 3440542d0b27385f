/**
 * Where the verifier's CPU goes per record (issue 15): each stage of the per-record work timed on
 * its own, in this thread's CPU time (process.threadCpuUsage, Node >= 23.9: other tenants of a
 * shared machine move it far less than wall-clock time), best of ROUNDS, over records of
 * bench/fast-trail.ts (chain format 2 unless BENCH_STAGES_VERSION=1).
 *
 * Worker side (parallel/read-segment.ts): lines, JSON.parse, finding the record, canonical form,
 * SHA-256, the entry, the report's facts, the entry's JSON. Main side: the entries' JSON read back
 * and the walk (router, epoch gate, walker) with and without the report's tally. "whole" rows are
 * the stages together as the verifier runs them (readSegment for a worker's segment).
 *
 * Run: npx tsx bench/verify-stages.ts  (BENCH_STAGES_RECORDS, default 100000)
 */

import { expandKeys, macInputOf, namesOfFieldsV2 } from '../src/integrity/canonical'
import { sha256Text } from '../src/integrity/chain'
import { generateVerifierKeyPair } from '../src/integrity/keys'
import { createCore } from '../src/verify/core'
import { type Entry, toEntry } from '../src/verify/entry'
import { createExtractor, type FoundRecord } from '../src/verify/extract/extractor'
import { createLineSplitter } from '../src/verify/lines'
import { readSegment } from '../src/verify/parallel/read-segment'
import { factsOf } from '../src/verify/report/facts'
import { recordMatcher } from '../src/verify/report/match'
import { Tally } from '../src/verify/report/tally'
import { fastTrail } from './fast-trail'

const N = Number(process.env.BENCH_STAGES_RECORDS ?? 100_000)
const ROUNDS = 5
const version = process.env.BENCH_STAGES_VERSION === '1' ? 1 : 2
const threadCpu = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage
if (!threadCpu) throw new Error('needs Node >= 23.9 (process.threadCpuUsage)')
const cpuMs = () => {
  const u = threadCpu.call(process)
  return (u.user + u.system) / 1000
}

const keys = generateVerifierKeyPair()
const lines = [...fastTrail({ records: N, publicKey: keys.publicKeyPem, version })]
const text = `${lines.join('\n')}\n`
const bytes = Buffer.from(text)

/** Best of ROUNDS: µs per record of `run` (which may prepare its input outside `timed`). */
function stage(label: string, run: (timed: (f: () => void) => void) => void): number {
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < ROUNDS; r++) {
    let spent = 0
    run((f) => {
      const t0 = cpuMs()
      f()
      spent += cpuMs() - t0
    })
    // The first round warms up (optimised code, buffers): not counted.
    if (r > 0) best = Math.min(best, spent)
  }
  const us = (best * 1000) / lines.length
  console.log(`| ${label} | ${us.toFixed(2)} |`)
  return us
}

const found: FoundRecord[] = []
const x = createExtractor((f) => found.push(f))
for (const l of lines) x.push(l)
x.end()
const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
const tops = parsed.map((p) => expandKeys(p))
const inputs = found.map((f) => macInputOf(f.record, namesOfFields(f), version))
const entriesWithFacts = found.map((f) => toEntry(f, factsOf))
const json = entriesWithFacts.map((e) => JSON.stringify(e))

function namesOfFields(f: FoundRecord): readonly string[] {
  return version === 2 ? namesOfFieldsV2(f.integrity.fields)! : (f.integrity.fields as string[])
}

console.log(
  `Node ${process.version}, ${lines.length} records of chain format ${version} (${(bytes.length / lines.length).toFixed(0)} bytes each), best of ${ROUNDS} rounds, this thread's CPU time`,
)
console.log('| stage | µs per record |')
console.log('|---|---:|')
console.log('| **worker thread** | |')
stage('lines (split a segment into strings)', (timed) =>
  timed(() => {
    const s = createLineSplitter({ line: () => undefined, tooLong: () => undefined })
    s.push(bytes)
    s.end()
  }),
)
stage('JSON.parse of the line', (timed) =>
  timed(() => {
    for (const l of lines) JSON.parse(l)
  }),
)
stage('extractor: parse + find the record (dotted keys expanded)', (timed) =>
  timed(() => {
    const e = createExtractor(() => undefined)
    for (const l of lines) e.push(l)
    e.end()
  }),
)
stage('canonical form (macInputOf)', (timed) =>
  timed(() => {
    for (const f of found) macInputOf(f.record, namesOfFields(f), version)
  }),
)
stage('SHA-256 of the canonical form', (timed) =>
  timed(() => {
    for (const s of inputs) sha256Text(s)
  }),
)
stage('entry (toEntry: canonical + SHA-256 + chain fields)', (timed) =>
  timed(() => {
    for (const f of found) toEntry(f)
  }),
)
stage("report's facts (factsOf)", (timed) =>
  timed(() => {
    for (const t of tops) factsOf(t)
  }),
)
stage("entry's JSON for the main thread (with facts)", (timed) =>
  timed(() => {
    for (const e of entriesWithFacts) JSON.stringify(e)
  }),
)
for (const facts of [undefined, 'facts'] as const) {
  stage(`whole: readSegment of 1 MiB segments${facts ? ', with facts' : ''}`, (timed) => {
    const segments: Uint8Array[] = []
    for (let at = 0; at < bytes.length; ) {
      let end = bytes.indexOf(10, Math.min(bytes.length - 1, at + (1 << 20)))
      end = end === -1 ? bytes.length : end + 1
      segments.push(new Uint8Array(bytes.subarray(at, end)))
      at = end
    }
    timed(() => {
      for (let i = 0; i < segments.length; i++) readSegment({ id: i, bytes: segments[i]!, facts })
    })
  })
}
console.log('| **main thread** | |')
stage("entries' JSON read back (JSON.parse)", (timed) =>
  timed(() => {
    for (const j of json) JSON.parse(j)
  }),
)
const privateKey = keys.privateKeyPem
for (const report of [false, true]) {
  stage(`walk: router, epoch gate, walker${report ? ", report's tally" : ''}`, (timed) => {
    const es: Entry[] = found.map((f) => toEntry(f, report ? factsOf : undefined))
    const tally = new Tally(recordMatcher({ actors: ['clinician-3'] }, []), () => true)
    const core = createCore({ privateKey }, report ? { pick: factsOf, onAuthentic: (e) => tally.add(e) } : {})
    timed(() => {
      for (const e of es) core.entry(e)
      core.finish()
    })
  })
}
