/**
 * One case of bench/instructions.ts, the process callgrind counts: the case's pool (bench/cases.ts)
 * on the server named by BENCH_PG_URL, `SELECT $1::int AS n` in 10 loops of pool.query (10
 * connections, 10 queries in flight, as bench/index.ts). It says `{ ready }` over IPC once every
 * connection is open; each `{ run: n }` then runs n queries, waits until their lines are written
 * (sealed first where the chain is on: the case's flush) and answers `{ ran: n }`, so that the
 * count zeroed before a run and dumped after it holds the work of exactly those n queries.
 * Run: node <bundle> <case>  (bench/instructions.ts bundles and drives it)
 */
import pg from 'pg'
import { createCase } from './cases'

const CONNECTIONS = 10
const TEXT = 'SELECT $1::int AS n'

const url = process.env.BENCH_PG_URL
const id = process.argv[2]
if (!url || !id || !process.send) throw new Error('run by bench/instructions.ts')
const c = createCase(pg, id, url, CONNECTIONS)

let next = 0
async function run(n: number): Promise<number> {
  let left = n
  const loop = async () => {
    while (left > 0) {
      left--
      const res = await c.pool.query(TEXT, [next++])
      if (res.rowCount !== 1) throw new Error('bench query returned no row')
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, loop))
  await c.flush()
  return n
}

// Every connection open before the warm-up.
const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => c.pool.connect()))
for (const client of clients) client.release()
process.on('message', (m: { run: number }) => {
  run(m.run).then(
    (ran) => process.send!({ ran }),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
})
process.send({ ready: true })
