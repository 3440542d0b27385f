/**
 * 50,000 events from a child process into `| cat` (stdout a pipe, as under Kubernetes), sealed on
 * the sealing thread, sealed inline, and with the chain off: the time from the first event to
 * close() resolved (every line handed to the pipe), median of RUNS runs. Uses the built package
 * (npm run build first). `tsx bench/pipe.ts`; RUNS and N from the environment.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const child = fileURLToPath(new URL('./pipe-child.mjs', import.meta.url))
const RUNS = Number(process.env.RUNS ?? 5)
const N = process.env.N ?? '50000'

function once(mode: string): Promise<{ ms: number; written: number; dropped: number }> {
  return new Promise((resolve, reject) => {
    // `cat` as the reader, as in the issue: node ... | cat > /dev/null
    const p = spawn('sh', ['-c', `"${process.execPath}" "${child}" | cat > /dev/null`], {
      env: { ...process.env, MODE: mode, N },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    p.stderr.setEncoding('utf8').on('data', (d) => (err += d))
    p.on('exit', () => {
      const line = err.split('\n').find((l) => l.startsWith('{"mode"'))
      if (!line) return reject(new Error(`no result from ${mode}:\n${err}`))
      resolve(JSON.parse(line))
    })
  })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const results: Record<string, number[]> = { worker: [], inline: [], off: [] }
// Interleaved, so that a noisy neighbour hits every mode alike.
for (let r = 0; r < RUNS; r++) {
  for (const mode of Object.keys(results)) {
    const res = await once(mode)
    if (res.written !== Number(N) || res.dropped !== 0) throw new Error(`${mode}: ${JSON.stringify(res)}`)
    results[mode]!.push(res.ms)
  }
}
console.log(`pipe bench: ${N} events into | cat, Node ${process.version}, median of ${RUNS} runs (ms)`)
for (const [mode, ms] of Object.entries(results)) {
  console.log(
    `  ${mode.padEnd(7)} ${median(ms).toFixed(0).padStart(6)}   runs: ${ms.map((m) => m.toFixed(0)).join(' ')}`,
  )
}
const ratio = median(results.worker!) / median(results.inline!)
console.log(`  thread / inline: ${ratio.toFixed(2)}x`)
