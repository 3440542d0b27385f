/**
 * Flat memory (issue 18): RSS of an Express server with auditMiddleware (defaults: chain on, lines
 * to stdout -> /dev/null) after 1 M and after 5 M requests; they should be within 10% of each other.
 * Also reported after every checkpoint: heap used and committed (total) and external memory after a
 * full collection (of the main thread's heap; its spaces' committed sizes on stderr), the sealing
 * thread's heap used and committed (bench/worker-heaps.ts), which `memoryUsage()` leaves out, how
 * many events were accepted and not yet written when the mark was reached (a backlog to the sealing
 * thread lives in posted messages, outside the JS heap), and the events written and dropped. Memory is read once everything accepted is written.
 *
 * The requests come from a minimal pipelining client (below) rather than autocannon: millions of
 * requests are the point, and on a shared 2-vCPU machine autocannon's own parsing and bookkeeping
 * took as much CPU as the server (5 M requests would have taken hours).
 *
 * Run (after npm run build): npx tsx bench/memory.ts
 * Env: BENCH_CASE (default boundary-audit), BENCH_MARKS (requests at which to sample, default
 * 100000,1000000,5000000), BENCH_CONNECTIONS (10), BENCH_PIPELINING (4).
 */
import { fork } from 'node:child_process'
import { openSync } from 'node:fs'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'

const KASE = process.env.BENCH_CASE ?? 'boundary-audit'
const MARKS = (process.env.BENCH_MARKS ?? '100000,1000000,5000000').split(',').map(Number)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 4)

const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [KASE], {
  execArgv: ['--import', 'tsx', '--expose-gc'],
  env: { ...process.env, BENCH_WORKER_HEAPS: '1' },
  stdio: ['ignore', openSync('/dev/null', 'w'), 'inherit', 'ipc'],
})
const port = await new Promise<number>((resolve, reject) => {
  child.once('message', (m: any) => resolve(m.port))
  child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
})
const memory = () =>
  new Promise<{
    rss: number
    heapUsed: number
    heapTotal: number
    external: number
    worker?: { used: number; total: number }
    spaces?: Record<string, number>
    backlog: number
    after?: { accepted: number; written: number; dropped: number }
  }>((resolve) => {
    child.once('message', (m: any) => resolve(m))
    child.send('mem')
  })
const mb = (n: number) => (n / 2 ** 20).toFixed(1)

console.log(`Node ${process.version}, case ${KASE}, ${CONNECTIONS} connections x ${PIPELINING} pipelined`)
console.log(
  '| requests | RSS MB | heap used / total MB | sealing thread heap used / total MB | external MB | vs first mark (RSS) | not yet written at the mark | written / dropped |\n|---:|---:|---:|---:|---:|---:|---:|---|',
)
let done = 0
let first: number | undefined
for (const mark of MARKS) {
  const t0 = Date.now()
  const count = mark - done
  await send(port, count)
  const seconds = (Date.now() - t0) / 1000
  done = mark
  const m = await memory()
  first ??= m.rss
  console.log(
    `| ${mark} | ${mb(m.rss)} | ${mb(m.heapUsed)} / ${mb(m.heapTotal)} | ${m.worker ? `${mb(m.worker.used)} / ${mb(m.worker.total)}` : '-'} | ${mb(m.external)} | ${(m.rss / first).toFixed(2)} | ${m.backlog} | ${m.after ? `${m.after.written} / ${m.after.dropped}` : '-'} |`,
  )
  console.error(
    `${mark}: ${Math.round(count / seconds)} requests/s over the last ${seconds.toFixed(0)} s; main heap spaces (MB committed): ${JSON.stringify(m.spaces)}`,
  )
}
child.send('stop')

/**
 * `amount` GET /hello requests over CONNECTIONS keep-alive connections, PIPELINING in flight on each;
 * resolves once every response has arrived. Responses are counted by their status lines (the body,
 * "hello world", holds none); any status other than 200 fails the run.
 */
function send(port: number, amount: number): Promise<void> {
  const request = 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
  const MARK = 'HTTP/1.1 '
  let sent = 0
  return new Promise((resolve, reject) => {
    let open = CONNECTIONS
    for (let c = 0; c < CONNECTIONS; c++) {
      const socket = connect(port, '127.0.0.1')
      let inFlight = 0
      // The end of the previous chunk, shorter than a status line: a line cut in two is found once.
      let carry = ''
      const fill = () => {
        let n = 0
        while (inFlight < PIPELINING && sent < amount) {
          sent++
          inFlight++
          n++
        }
        if (n > 0) socket.write(request.repeat(n))
        else if (inFlight === 0) socket.end()
      }
      socket.on('connect', fill)
      socket.on('data', (chunk: Buffer) => {
        const text = carry + chunk.toString('latin1')
        let at = text.indexOf(MARK)
        while (at !== -1) {
          const status = text.slice(at + MARK.length, at + MARK.length + 3)
          if (status.length === 3 && status !== '200') {
            socket.destroy()
            reject(new Error(`status ${status}`))
            return
          }
          inFlight--
          at = text.indexOf(MARK, at + 1)
        }
        carry = text.slice(-(MARK.length - 1))
        fill()
      })
      socket.on('error', reject)
      socket.on('close', () => {
        if (--open === 0) resolve()
      })
    }
  })
}
