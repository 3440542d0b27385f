/**
 * Verify benchmark (issue 15): records/s and peak RSS of `verify` (and `report`) on one keyed stream
 * as written, and the same input shuffled; side by side with this verifier on one thread, the
 * previous streaming verifier (one thread, session 5) and the verifier before issue 15 (both run from
 * the git history, in a temporary directory: nothing of it is committed). Worker threads need the
 * built package (dist/verify-worker.cjs): `npx turbo run build` first.
 *
 * The data is generated here (bench/fast-trail.ts: sealed with the chain's own primitives, chain
 * format 2 as the SDK writes it, epochs of 87 records, about 730 bytes per record). Each measurement
 * runs in its own child process (peak RSS is per process). Where the CPU goes per record, stage by
 * stage: bench/verify-stages.ts.
 *
 * Run: npm run bench:verify -w @boundary-audit/core
 *   BENCH_VERIFY_RECORDS  sizes to run, comma-separated (default 100000,200000,1000000; the issue's
 *                         full size adds 10000000: about 7.5 GB of temporary files)
 *   BENCH_VERIFY_BASELINE git revision of the old verifier (default: the commit before
 *                         "verify: no input can hide records"); BENCH_VERIFY_BASELINE=none skips it
 *   BENCH_VERIFY_PREVIOUS git revision of the previous streaming verifier (default: the commit
 *                         before "verify: worker threads read the input"); =none skips it
 *   BENCH_VERIFY_CASES    cases to run, comma-separated (default: all of previous, one-thread,
 *                         verify, report, shuffled, report-shuffled; also report-all: report
 *                         without a filter, every record's facts reach the main thread)
 *   BENCH_VERIFY_DIR      where the data goes (default: the OS temp directory)
 *   BENCH_VERIFY_FORMAT   chain format of the data (default 2; 1: a key and an HMAC per record)
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  closeSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeFlagsFor } from '../src/cli/respawn'
import { generateVerifierKeyPair } from '../src/integrity/keys'
import { fastTrail } from './fast-trail'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = join(here, '..')
const root = join(pkg, '..', '..')
const sizes = (process.env.BENCH_VERIFY_RECORDS ?? '100000,200000,1000000').split(',').map(Number)
const format = process.env.BENCH_VERIFY_FORMAT === '1' ? 1 : 2
const work = mkdtempSync(join(process.env.BENCH_VERIFY_DIR ?? os.tmpdir(), 'ba-bench-verify-'))

interface Result {
  records?: number
  ms?: number
  cpuMs?: number
  mainCpuMs?: number
  exitCode?: number
  maxRssMB?: number
  error?: string
}

async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(file)
  let chunk = ''
  for (const line of lines) {
    chunk += `${line}\n`
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
      chunk = ''
    }
  }
  out.end(chunk)
  await new Promise<void>((r) => out.once('finish', () => r()))
}

/**
 * Reads the file once, untimed, and says how fast: the timed runs then read it from the page cache
 * when the machine's memory holds it. Without this the first run of a 7 GB file measured the disk
 * (~61 MB/s here: 82 k records/s against 133-145 k for the same verifier run second, session 9).
 */
function readThrough(file: string): void {
  const buf = Buffer.allocUnsafe(4 << 20)
  const fd = openSync(file, 'r')
  const t0 = performance.now()
  let bytes = 0
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) bytes += n
  } finally {
    closeSync(fd)
  }
  const s = (performance.now() - t0) / 1000
  console.error(
    `read ${(bytes / 1e9).toFixed(2)} GB in ${s.toFixed(1)} s (${Math.round(bytes / 1e6 / s)} MB/s) before timing`,
  )
}

/** The same lines in random order: spread over 64 bucket files, each shuffled in memory, concatenated. */
async function shuffleFile(input: string, output: string): Promise<void> {
  const buckets = Array.from({ length: 64 }, (_, i) => join(work, `bucket-${i}`))
  const outs = buckets.map((b) => createWriteStream(b))
  const { createInterface } = await import('node:readline')
  const { createReadStream } = await import('node:fs')
  for await (const line of createInterface({
    input: createReadStream(input),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    const o = outs[Math.floor(Math.random() * outs.length)]!
    if (!o.write(`${line}\n`)) await new Promise<void>((r) => o.once('drain', () => r()))
  }
  await Promise.all(outs.map((o) => new Promise<void>((r) => o.end(() => r()))))
  const fd = openSync(output, 'w')
  for (const b of buckets) {
    const lines = readFileSync(b, 'utf8').split('\n')
    lines.pop()
    for (let i = lines.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[lines[i], lines[j]] = [lines[j]!, lines[i]!]
    }
    writeFileSync(fd, lines.length > 0 ? `${lines.join('\n')}\n` : '')
    rmSync(b)
  }
}

/** The source tree of an earlier verifier: `rev`, or the commit before the first one matching `grep`. */
function sourceAt(name: string, rev: string | undefined, grep: string): string | undefined {
  if (rev === 'none') return undefined
  if (!rev) {
    const first = execFileSync('git', ['log', '--format=%H', '-n1', `--grep=${grep}`], {
      cwd: root,
      encoding: 'utf8',
    }).trim()
    if (!first) return undefined
    rev = `${first}~1`
  }
  const dir = join(work, name)
  mkdirSync(dir)
  const tar = execFileSync('git', ['archive', rev, 'packages/core/src'], { cwd: root, maxBuffer: 1 << 28 })
  execFileSync('tar', ['-x', '-C', dir], { input: tar })
  return join(dir, 'packages', 'core', 'src')
}

function measure(file: string, keyFile: string, mode: string, extra?: string): Result {
  const args = ['--import', 'tsx', join(here, 'verify-run.ts'), file, keyFile, mode]
  if (extra) args.push(extra)
  // The old verifier holds everything: give it room. The streaming one runs with Node's defaults.
  // The CLI runs verify and report with a smaller young generation, report also with a lower heap
  // growing factor (cli/respawn.ts): so do these.
  const heap =
    mode === 'old'
      ? ['--max-old-space-size=8192']
      : [...nodeFlagsFor(extra?.startsWith('report') ? 'report' : 'verify')]
  const r = spawnSync(process.execPath, [...heap, ...args], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, BASELINE_SRC: baseline ?? '', PREVIOUS_SRC: previous ?? '' },
    maxBuffer: 1 << 20,
  })
  const last = r.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(last) as Result
  } catch {
    return {
      error: (r.stderr || `exit ${r.status} ${r.signal ?? ''}`)
        .trim()
        .split('\n')
        .slice(-1)[0]!
        .slice(0, 160),
    }
  }
}

function row(label: string, n: number, r: Result): string {
  if (r.error) return `| ${label} | ${n.toLocaleString('en')} | failed: ${r.error} | | | | |`
  const rate = (ms: number) => Math.round((r.records! / ms) * 1000).toLocaleString('en')
  const main = r.mainCpuMs !== undefined ? rate(r.mainCpuMs) : ''
  return `| ${label} | ${n.toLocaleString('en')} | ${rate(r.ms!)} | ${rate(r.cpuMs!)} | ${main} | ${r.maxRssMB} | exit ${r.exitCode} |`
}

const keys = generateVerifierKeyPair()
const keyFile = join(work, 'verifier-private.pem')
writeFileSync(keyFile, keys.privateKeyPem)
const baseline = sourceAt('baseline', process.env.BENCH_VERIFY_BASELINE, '^verify: no input can hide records')
const previous = sourceAt(
  'previous',
  process.env.BENCH_VERIFY_PREVIOUS,
  '^verify: worker threads read the input',
)
const cases = new Set(
  (process.env.BENCH_VERIFY_CASES ?? 'previous,one-thread,verify,report,shuffled,report-shuffled').split(','),
)

console.log(
  `Chain format ${format}; Node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? '?'}), load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
)
// records/s is wall-clock; per CPU-second counts every thread's CPU time (a fairer figure on a
// shared, busy machine, where wall-clock time mostly measures the other tenants); per main-thread
// CPU-second is the ceiling the in-order walk sets when worker threads do the rest.
console.log(
  '| verifier | records | records/s | records per CPU-s | per main-thread CPU-s | peak RSS MB | result |',
)
console.log('|---|---:|---:|---:|---:|---:|---|')
try {
  for (const n of sizes) {
    const file = join(work, `trail-${n}.ndjson`)
    const t0 = performance.now()
    await writeLines(file, fastTrail({ records: n, publicKey: keys.publicKeyPem, version: format }))
    const genS = (performance.now() - t0) / 1000
    console.error(
      `generated ${n} records (${(statSync(file).size / 1e9).toFixed(2)} GB) in ${genS.toFixed(1)} s`,
    )
    readThrough(file)
    // The old verifier holds the whole input (about 4.4 KB per record) and overflows its stack at
    // 200,000: it is run up to that size only.
    if (baseline && n <= 200_000) console.log(row('before (whole input)', n, measure(file, keyFile, 'old')))
    if (previous && cases.has('previous'))
      console.log(row('previous streaming verifier (one thread)', n, measure(file, keyFile, 'previous')))
    if (cases.has('one-thread'))
      console.log(row('verify, one thread', n, measure(file, keyFile, 'one-thread')))
    if (cases.has('verify')) console.log(row('verify (worker threads)', n, measure(file, keyFile, 'new')))
    if (cases.has('report'))
      console.log(row('report (same pass, threads)', n, measure(file, keyFile, 'new', 'report')))
    if (cases.has('report-all'))
      console.log(row('report, no filter (threads)', n, measure(file, keyFile, 'new', 'report-all')))
    // The issue asks both of the shuffled input: a correct result within the same memory bound.
    if (cases.has('shuffled') || cases.has('report-shuffled')) {
      const shuffled = join(work, `trail-${n}-shuffled.ndjson`)
      await shuffleFile(file, shuffled)
      rmSync(file)
      readThrough(shuffled)
      if (cases.has('shuffled'))
        console.log(row('verify, shuffled input (threads)', n, measure(shuffled, keyFile, 'shuffled')))
      if (cases.has('report-shuffled'))
        console.log(
          row('report, shuffled input (threads)', n, measure(shuffled, keyFile, 'shuffled', 'report')),
        )
      rmSync(shuffled)
    } else rmSync(file)
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}
