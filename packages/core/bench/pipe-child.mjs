// Child of bench/pipe.ts: 50,000 events from the built package into stdout (a pipe to `cat`), then close().
import { createAuditLogger } from '../dist/index.js'

const n = Number(process.env.N ?? 50000)
const mode = process.env.MODE ?? 'worker'
const audit = createAuditLogger({
  service: { name: 'bench', instance: 'b' },
  integrity: mode === 'off' ? { enabled: false } : { thread: mode, checkpointIntervalSeconds: 0 },
})
const t0 = performance.now()
for (let i = 0; i < n; i++) {
  audit.event({
    action: 'tick',
    category: 'process',
    type: 'info',
    outcome: 'success',
    details: { i, pad: 'p'.repeat(200) },
  })
  // A server logs a few events per turn of the event loop; yield now and then like one.
  if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
}
const tLoop = performance.now() - t0
await audit.close()
const s = audit.stats()
process.stderr.write(`${JSON.stringify({ mode, ms: performance.now() - t0, loopMs: tLoop, ...s })}\n`)
