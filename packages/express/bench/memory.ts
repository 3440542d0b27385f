/**
 * Flat memory (issue 18): RSS of an Express server with auditMiddleware (defaults: chain on, lines
 * to stdout -> /dev/null) after 1 M and after 5 M requests; they should be within 10% of each other.
 * Also reported after every checkpoint: heap used and external memory after a full collection.
 *
 * Run (after npm run build): npx tsx bench/memory.ts
 * Env: BENCH_CASE (default boundary-audit), BENCH_MARKS (requests at which to sample, default
 * 100000,1000000,5000000), BENCH_CONNECTIONS (10), BENCH_PIPELINING (4).
 */
import { fork } from 'node:child_process'
import { openSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const KASE = process.env.BENCH_CASE ?? 'boundary-audit'
const MARKS = (process.env.BENCH_MARKS ?? '100000,1000000,5000000').split(',').map(Number)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 4)

const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [KASE], {
  execArgv: ['--import', 'tsx', '--expose-gc'],
  stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit', 'ipc'],
})
const port = await new Promise<number>((resolve, reject) => {
  child.once('message', (m: any) => resolve(m.port))
  child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
})
const memory = () =>
  new Promise<{ rss: number; heapUsed: number; external: number }>((resolve) => {
    child.once('message', (m: any) => resolve(m))
    child.send('mem')
  })
const mb = (n: number) => (n / 2 ** 20).toFixed(1)

console.log(`Node ${process.version}, case ${KASE}, ${CONNECTIONS} connections x ${PIPELINING} pipelined`)
console.log(
  '| requests | RSS MB | heap used MB | external MB | vs first mark (RSS) |\n|---:|---:|---:|---:|---:|',
)
let done = 0
let first: number | undefined
for (const mark of MARKS) {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/hello`,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    amount: mark - done,
  })
  if (r.errors + r.non2xx > 0) throw new Error(`${r.errors} errors, ${r.non2xx} non-2xx`)
  done = mark
  const m = await memory()
  first ??= m.rss
  console.log(
    `| ${mark} | ${mb(m.rss)} | ${mb(m.heapUsed)} | ${mb(m.external)} | ${(m.rss / first).toFixed(2)} |`,
  )
}
child.send('stop')
