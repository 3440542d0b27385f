/**
 * Instructions per HTTP request of a benchmark server under valgrind's callgrind (the
 * `bench:instructions` scripts of the Express and Nest packages). The server is a child process
 * that reports `{ port }` over IPC; callgrind counts every thread of it (event loop, sealing thread,
 * GC, libuv). A warm-up of 4N requests (JIT), then the count is zeroed, N requests are sent
 * (autocannon, 10 connections, no pipelining) and the count is dumped: instructions per request =
 * count / N. countProcess is the same driver for a child that does its own work when told to (the
 * pg package's queries). Plain ESM so tsx and node both run it.
 */
import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { build } from 'esbuild'

/** V8 flags of every counted run: --predictable (no concurrent compiler or GC threads, fixed seeds) and a fixed young generation make two runs of one case agree within 0.1%. */
export const CALLGRIND_NODE_FLAGS = ['--predictable', '--max-semi-space-size=16', '--min-semi-space-size=16']

/** Exits with a message when valgrind is missing. */
export function requireValgrind(script) {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
  } catch {
    console.error(`${script} needs valgrind (e.g. apt-get install valgrind)`)
    process.exit(2)
  }
}

/**
 * Bundles a benchmark server from the packages' sources (`source` condition) into `work`, with one
 * change: the writers' hand-over delay (writer/batch.ts, 10-50 ms) is stretched to 1 s, because under
 * valgrind everything runs ~100x slower and a 10 ms batch would hold one record instead of the
 * dozens it holds at full speed. The bundle goes to a new directory in the package's `.tmp`
 * (git-ignored), next to `entry`'s folder, so that third-party packages (`external`) load from the
 * package's node_modules as usual. Returns the bundle's path and its directory.
 */
export async function bundleServer({ entry, external }) {
  const tmp = join(dirname(entry), '..', '.tmp')
  mkdirSync(tmp, { recursive: true })
  const work = mkdtempSync(join(tmp, 'instr-'))
  const bundle = join(work, 'server.mjs')
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    conditions: ['source'],
    external,
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    outfile: bundle,
    logLevel: 'warning',
    plugins: [
      {
        name: 'stretch-batch-delay',
        setup(b) {
          b.onLoad({ filter: /writer[\\/]batch\.ts$/ }, (args) => {
            const text = readFileSync(args.path, 'utf8')
            const stretched = text.replace(/BATCH_DELAY_MS = \d+\b/, 'BATCH_DELAY_MS = 1000')
            if (stretched === text) throw new Error('bench: BATCH_DELAY_MS not found in writer/batch.ts')
            return { contents: stretched, loader: 'ts' }
          })
        },
      },
    ],
  })
  // The sealing thread's script, where the bundle looks for it (next to itself).
  const core = fileURLToPath(new URL('../packages/core/dist/seal-worker.cjs', import.meta.url))
  copyFileSync(core, join(work, 'seal-worker.cjs'))
  return { bundle, work }
}

/**
 * Runs `node script ...args` under callgrind and returns its instructions per unit of work. The child
 * sends one IPC message when it is ready to be driven; `drive(ready, control)` gets that message and
 * `control` ({ child, request, zero, dump }), does the warm-up, zeroes the count, does the measured
 * work, dumps the count and returns how many units (requests, queries) that was. Callgrind counts
 * every thread of the process into one total (its default, no --separate-threads). With
 * `compilers`, returns `{ total, compilers }` per unit instead: `compilers` is the part of the total
 * spent in V8's optimising compilers (OPTIMISING_COMPILERS, inclusive), which under --predictable
 * run on the main thread and are still at work after tens of thousands of warm-up units.
 * `nodeFlags` are added for analysis, e.g. --perf-basic-prof: V8 then writes /tmp/perf-PID.map,
 * which names the JIT code callgrind shows as bare addresses (it adds instructions: not for figures).
 */
export async function countProcess({ script, args, work, env, drive, compilers = false, nodeFlags = [] }) {
  const dir = mkdtempSync(join(work, `${args.join('-') || 'case'}-`))
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(dir, 'cg.out')}`,
      '--smc-check=all-non-file',
      process.execPath,
      ...CALLGRIND_NODE_FLAGS,
      ...nodeFlags,
      script,
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], cwd: dir, env: { ...process.env, ...env } },
  )
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const name = args.join(' ')
  // The next IPC message, or an error when the child exits first.
  const next = () =>
    new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`${name} exited with ${code}: ${stderr.slice(-2000)}`))
      child.once('message', (m) => {
        child.off('exit', onExit)
        resolve(m)
      })
      child.once('exit', onExit)
    })
  const control = {
    child,
    /** Sends `message` and resolves with the child's next message. */
    request(message) {
      const reply = next()
      child.send(message)
      return reply
    },
    zero() {
      execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' })
    },
    dump() {
      execFileSync('callgrind_control', ['--dump=measured', String(child.pid)], { stdio: 'ignore' })
    },
  }
  try {
    const units = await drive(await next(), control)
    let total = 0
    let compiling = 0
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8')
      if (!text.includes('measured')) continue
      const m = text.match(/^(?:summary|totals): (\d+)/m)
      if (m) total += Number(m[1])
      if (compilers) compiling += compilerInstructions(join(dir, f))
    }
    if (total === 0) throw new Error(`${name}: no callgrind dump found`)
    return compilers ? { total: total / units, compilers: compiling / units } : total / units
  } finally {
    child.kill('SIGKILL')
  }
}

/**
 * V8's optimising compilers (TurboFan and Maglev, OSR included), as callgrind_annotate names their
 * entry points: their inclusive instructions are the compilers' whole work, neither nested in the other.
 */
const OPTIMISING_COMPILERS = /^\s*([\d,]+) .*?\bv8::internal::Compiler::CompileOptimized(?:OSR)?\(/

/** Instructions spent in V8's optimising compilers in one callgrind dump. */
function compilerInstructions(file) {
  const out = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  let n = 0
  for (const line of out.split('\n')) {
    const m = OPTIMISING_COMPILERS.exec(line)
    if (m) n += Number(m[1].replaceAll(',', ''))
  }
  return n
}

/** Instructions per HTTP request of a server that reports `{ port }` when listening. */
export function countInstructions({ script, args, work, path, requests, timeout, env }) {
  const name = args.join(' ')
  return countProcess({
    script,
    args,
    work,
    env,
    async drive({ port }, { zero, dump }) {
      const url = `http://127.0.0.1:${port}${path}`
      // `timeout`: under valgrind on a busy machine, autocannon's default 10 s is not enough and a
      // request counted as an error stops the run.
      await autocannon({ url, connections: 10, pipelining: 1, amount: 4 * requests, timeout })
      zero()
      const r = await autocannon({ url, connections: 10, pipelining: 1, amount: requests, timeout })
      dump()
      if (r.errors + r.non2xx > 0) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`)
      return r.requests.total
    },
  })
}

/**
 * Counts each case (`node bundle <case>`), two at a time (`parallel` to change; valgrind runs a
 * process on one core; counts do not depend on what runs beside it), then prints a table of instructions per request
 * with the ratios to `bare` and to `anchor`. `keep` leaves the callgrind files in `work` (for
 * callgrind_annotate), else `work` is removed. `count(kase)` counts one case some other way than
 * HTTP requests to a server (default: countInstructions), `unit` names what it counts per
 * (default `request`; `units` its plural), `bare` is the case of the first ratio column (default `bare`).
 */
export async function countAndReport({
  bundle,
  cases,
  work,
  path,
  requests,
  timeout,
  anchor,
  keep,
  title,
  env,
  parallel = 2,
  count = (kase) => countInstructions({ script: bundle, args: [kase], work, path, requests, timeout, env }),
  unit = 'request',
  units = `${unit}s`,
  bare: bareCase = 'bare',
}) {
  const results = new Map()
  // parallel 3 counts three cases side by side (on 2 vCPUs about as long as two pairs, but one batch:
  // a three-case table in one locked run without a case left alone in a second batch). Not more: the
  // slower each server runs, the fewer records a sealing batch holds (its delay is time), and with
  // 1,000 requests a full collection may or may not fall in the window (Nest, 5 side by side:
  // BoundaryAuditModule 648.8 k, a mark-compact in the window, against 512.1 k with 3).
  const width = Math.max(1, Number(parallel) || 2)
  for (let i = 0; i < cases.length; i += width) {
    const pair = cases.slice(i, i + width)
    // allSettled: when one case fails, the other's valgrind is still killed (its finally runs)
    // before the error ends the bench, instead of being left running on its own.
    const settled = await Promise.allSettled(pair.map((kase) => count(kase)))
    const failed = settled.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    const counts = settled.map((r) => r.value)
    pair.forEach((k, j) => {
      results.set(k, counts[j])
      const c = counts[j]
      const text = typeof c === 'number' ? kilo(c) : `${kilo(c.total)} (compilers ${kilo(c.compilers)})`
      console.error(`${k}: ${text} k instructions/${unit}`)
    })
  }
  if (keep) console.error(`callgrind files kept in ${work}`)
  else rmSync(work, { recursive: true, force: true })
  if ([...results.values()].some((c) => typeof c !== 'number')) {
    return reportLessCompilers({ results, anchor, bareCase, title, requests, unit, units })
  }
  const bare = results.get(bareCase)
  const base = results.get(anchor)
  console.log(
    `\n${title ? `${title}, ` : ''}Node ${process.version}, valgrind callgrind, node ${CALLGRIND_NODE_FLAGS.join(' ')}, ${requests} ${units} after ${4 * requests} warm-up\n`,
  )
  console.log(`| case | k instructions / ${unit} | ${bareCase} / case | ${anchor} / case |`)
  console.log('|---|---:|---:|---:|')
  for (const [kase, n] of results) {
    const vsBare = bare ? (bare / n).toFixed(3) : '-'
    const vsAnchor = base ? (base / n).toFixed(3) : '-'
    console.log(`| ${kase} | ${(n / 1000).toFixed(1)} | ${vsBare} | ${vsAnchor} |`)
  }
  return results
}

const kilo = (n) => (n / 1000).toFixed(1)

/**
 * The table of countAndReport for counts that say their compilers' part ({ total, compilers }):
 * the ratios are taken less that part, which depends on where V8 is in its tiering when the count
 * starts more than on the code measured.
 */
function reportLessCompilers({ results, anchor, bareCase, title, requests, unit, units }) {
  const less = (c) => c.total - c.compilers
  const bare = results.get(bareCase)
  const base = results.get(anchor)
  console.log(
    `\n${title ? `${title}, ` : ''}Node ${process.version}, valgrind callgrind, node ${CALLGRIND_NODE_FLAGS.join(' ')}, ${requests} ${units} after ${4 * requests} warm-up; "less compilers": less V8's optimising compilers (TurboFan, Maglev), ratios on that\n`,
  )
  console.log(
    `| case | k instructions / ${unit} | of which compilers | less compilers | ${bareCase} / case | ${anchor} / case | ${anchor} / case, with compilers |`,
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const [kase, c] of results) {
    const vsBare = bare ? (less(bare) / less(c)).toFixed(3) : '-'
    const vsAnchor = base ? (less(base) / less(c)).toFixed(3) : '-'
    const vsAnchorAll = base ? (base.total / c.total).toFixed(3) : '-'
    console.log(
      `| ${kase} | ${kilo(c.total)} | ${kilo(c.compilers)} | ${kilo(less(c))} | ${vsBare} | ${vsAnchor} | ${vsAnchorAll} |`,
    )
  }
  return results
}
