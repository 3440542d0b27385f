/**
 * One measured run (a child of bench/verify.ts): verifies FILE with this verifier (from source,
 * through tsx, as the others; worker threads from the built dist/verify-worker.cjs), with it on one
 * thread, with an earlier streaming verifier from a source tree (PREVIOUS_SRC), or with the old
 * whole-input verifier from a source tree (BASELINE_SRC), and prints {records, ms, cpuMs, mainCpuMs,
 * exitCode, maxRssMB} as one JSON line. A run that fails (stack overflow, out of memory) prints its
 * error instead.
 */
import { createReadStream, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

const [file, keyFile, mode = 'new', reportArg] = process.argv.slice(2)
const privateKey = readFileSync(keyFile!, 'utf8')

async function main(): Promise<void> {
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  // The main thread's own CPU (Node >= 23.9): what the in-order walk costs beside the workers.
  const threadCpu = (process as { threadCpuUsage?: (p?: NodeJS.CpuUsage) => NodeJS.CpuUsage }).threadCpuUsage
  const m0 = threadCpu?.call(process)
  let records = 0
  let exitCode: number
  if (mode === 'old') {
    // The verifier before issue 15: reads the whole input, then verifies it.
    const src = process.env.BASELINE_SRC!
    const { verifyLines } = await import(pathToFileURL(`${src}/integrity/verify.ts`).href)
    const text = readFileSync(file!, 'utf8')
    const lines = text.split('\n')
    if (lines[lines.length - 1] === '') lines.pop()
    const r = verifyLines(lines, { privateKey })
    records = r.input.records
    exitCode = r.exitCode
  } else if (mode === 'previous') {
    // An earlier streaming verifier (one thread), from its own source tree.
    const src = process.env.PREVIOUS_SRC!
    const { verifyStream } = await import(pathToFileURL(`${src}/verify/verifier.ts`).href)
    const r = await verifyStream(createReadStream(file!, { highWaterMark: 1 << 20 }), { privateKey })
    records = r.input.records
    exitCode = r.exitCode
  } else if (reportArg === 'report' || reportArg === 'report-all') {
    // report: one actor of the seven in the data (a stolen account); report-all: no filter.
    const { evidenceReport } = await import('../src/verify/report/evidence')
    const r = await evidenceReport(createReadStream(file!, { highWaterMark: 1 << 20 }), {
      privateKey,
      actors: reportArg === 'report' ? ['clinician-3'] : undefined,
    })
    records = r.input.records
    exitCode = r.exitCode
  } else {
    const { verifyStream } = await import('../src/verify/verifier')
    const r = await verifyStream(createReadStream(file!, { highWaterMark: 1 << 20 }), {
      privateKey,
      ignoreOrder: mode === 'shuffled',
      threads: mode === 'one-thread' ? 0 : undefined,
    })
    records = r.input.records
    exitCode = r.exitCode
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(c0)
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000)
  const maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024)
  const m = m0 && threadCpu?.call(process, m0)
  const mainCpuMs = m ? Math.round((m.user + m.system) / 1000) : undefined
  process.stdout.write(
    `${JSON.stringify({ records, ms: Math.round(ms), cpuMs, mainCpuMs, exitCode, maxRssMB })}\n`,
  )
}

main().catch((err) => {
  process.stdout.write(`${JSON.stringify({ error: String(err?.message ?? err).slice(0, 200) })}\n`)
})
