/**
 * The sealing thread on its own: order, sync flush, and what happens when the thread cannot start
 * or dies (every record still written, sealed inline, under a fresh stream if the thread had
 * written anything, nothing lost).
 * Real worker threads and real files; the broken threads are a fixture script.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { prepareRecord } from '../integrity/assemble'
import { newStreamId } from '../integrity/chain'
import { verifyText } from '../integrity/verify'
import type { Backend } from './backend'
import type { Item } from './items'
import { SEAL_THREAD_YOUNG_MB, sealWorkerFile, type ThreadOptions, threadBackend } from './thread'

const dir = mkdtempSync(join(tmpdir(), 'ba-seal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const broken = fileURLToPath(new URL('../../test/fixtures/seal-worker-broken.cjs', import.meta.url))

/**
 * A sealing thread that dies on the first batch it receives, before writing it: the real worker,
 * with its message listener wrapped. Deterministic, unlike a timer, so the death can be placed
 * while flush() or end() waits for the thread. 'throw' crashes it (the sink sees 'error', then
 * 'exit'); 'exit' stops it quietly (only 'exit').
 */
function diesOnFirstBatch(how: 'throw' | 'exit'): string {
  const script = join(dir, `seal-worker-dies-on-batch-${how}.cjs`)
  const die = how === 'throw' ? "throw new Error('sealing thread crashed')" : 'process.exit(0)'
  writeFileSync(
    script,
    `const { parentPort } = require('node:worker_threads')
const on = parentPort.on.bind(parentPort)
parentPort.on = (event, listener) =>
  on(event, event !== 'message' ? listener : (m) => {
    if (typeof m === 'string') ${die}
    listener(m)
  })
require(${JSON.stringify(sealWorkerFile())})
`,
  )
  return script
}

function options(file: string, extra: Partial<ThreadOptions> = {}): ThreadOptions & { warnings: string[] } {
  const warnings: string[] = []
  return {
    dest: file,
    report: (m: string) => warnings.push(m),
    service: { name: 'svc' },
    ecsVersion: '8.17.0',
    maxLineBytes: 16383,
    chain: {
      service: { name: 'svc', instance: 'pod' },
      streamId: newStreamId(),
      checkpointIntervalSeconds: 0,
      maxLineBytes: 16383,
    },
    warnings,
    ...extra,
  }
}

function record(i: number): Record<string, unknown> {
  return {
    '@timestamp': new Date().toISOString(),
    audit: { details: { i } },
    'ecs.version': '8.17.0',
    event: { action: 'tick', id: `e-${i}` },
    'log.level': 'info',
    message: `tick ${i}`,
  }
}

const prepare = (i: number): Item => ({
  kind: 'record',
  prepared: prepareRecord(record(i), { maxLineBytes: 16383 }),
})
const close: Item = { kind: 'close' }
const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

function readAll(file: string): any[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

/** The events (the chain's own records left out). */
function readLines(file: string): any[] {
  return readAll(file).filter((l) => l.event.action === 'tick')
}

function start(o: ThreadOptions): Backend {
  const backend = threadBackend(o)
  if (!backend) throw new Error('no sealing thread')
  return backend
}

describe('sealing thread', () => {
  it('the built worker script is found (npm test builds it first)', () => {
    expect(sealWorkerFile()).toMatch(/seal-worker\.cjs$/)
  })

  it("caps the thread's young generation (its heap would otherwise grow for millions of records)", async () => {
    // A thread that reports its own limits, then fails to start: the records go inline.
    const script = join(dir, 'seal-worker-limits.cjs')
    const out = join(dir, 'limits.json')
    writeFileSync(
      script,
      `const { resourceLimits } = require('node:worker_threads')
require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(resourceLimits))
process.exit(0)`,
    )
    const sink = start(options(join(dir, 'limits.ndjson'), { workerFile: script }))
    sink.push(prepare(0))
    for (let i = 0; i < 200 && sink.mode !== 'inline'; i++) await new Promise((r) => setTimeout(r, 10))
    await sink.end()
    expect(JSON.parse(readFileSync(out, 'utf8')).maxYoungGenerationSizeMb).toBe(SEAL_THREAD_YOUNG_MB)
  })

  it('seals in acceptance order across many batches; end() leaves a verifiable file', async () => {
    const file = join(dir, 'order.ndjson')
    const o = options(file)
    const sink = start(o)
    expect(sink.mode).toBe('worker')
    for (let i = 0; i < 3000; i++) {
      sink.push(prepare(i))
      if (i % 250 === 0) await tick()
    }
    await sink.flush()
    expect(readLines(file)).toHaveLength(3000)
    expect(sink.written).toBe(3000)
    sink.push(close)
    await sink.end()
    const lines = readLines(file)
    expect(lines.map((l) => l.audit.details.i)).toEqual([...Array(3000).keys()])
    expect(lines.map((l) => l.audit.integrity.seq)).toEqual([...Array(3000).keys()].map((i) => i + 1))
    expect(new Set(lines.map((l) => l.audit.integrity.stream))).toEqual(new Set([o.chain.streamId]))
    const report = verifyText(readFileSync(file, 'utf8'))
    expect(report.exitCode).toBe(0)
    expect(report.streams[0]!.intact).toEqual([[0, 3001]])
    expect(report.streams[0]!.closed).toBe(true)
    expect(o.warnings).toEqual([])
  })

  it('flushSync() waits for the thread (as at process exit)', () => {
    const file = join(dir, 'sync.ndjson')
    const sink = start(options(file))
    for (let i = 0; i < 500; i++) sink.push(prepare(i))
    sink.push(close)
    sink.flushSync(Date.now() + 20_000, Date.now() + 25_000)
    expect(readLines(file)).toHaveLength(500)
    expect(readAll(file).at(-1).event.action).toBe('audit-stream-end')
  })

  it('a thread that cannot start: everything is sealed inline instead, same stream, with a warning', async () => {
    process.env.SEAL_TEST_MODE = 'fail-start'
    const file = join(dir, 'fail-start.ndjson')
    const o = options(file, { workerFile: broken })
    const sink = start(o)
    for (let i = 0; i < 200; i++) sink.push(prepare(i))
    await sink.flush()
    await new Promise((resolve) => setTimeout(resolve, 200))
    for (let i = 200; i < 400; i++) sink.push(prepare(i))
    sink.push(close)
    await sink.end()
    expect(sink.mode).toBe('inline')
    const lines = readLines(file)
    expect(lines.map((l) => l.audit.details.i)).toEqual([...Array(400).keys()])
    expect(new Set(lines.map((l) => l.audit.integrity.stream))).toEqual(new Set([o.chain.streamId]))
    const report = verifyText(readFileSync(file, 'utf8'))
    expect(report.exitCode).toBe(0)
    expect(report.streams[0]!.intact).toEqual([[0, 401]])
    expect(o.warnings.join('\n')).toMatch(/sealing thread .*; records are sealed on the main thread/)
  })

  it('a thread that dies mid-stream: no accepted record is lost; the rest is a new stream', async () => {
    process.env.SEAL_TEST_MODE = '150'
    process.env.SEAL_TEST_REAL_WORKER = sealWorkerFile()!
    const file = join(dir, 'crash.ndjson')
    const o = options(file, { workerFile: broken })
    const sink = start(o)
    // Writes until the sink has noticed the death, not for a fixed time: the thread dies 150 ms
    // after it has started, and on a loaded machine starting can take longer than any fixed wait.
    // The deadline (under the project's 30 s test timeout) only turns a broken fallback into a
    // failed assertion rather than a timeout.
    const deadline = Date.now() + 10_000
    let n = 0
    while (sink.mode === 'worker' && Date.now() < deadline) {
      for (let j = 0; j < 20; j++) sink.push(prepare(n++))
      await tick()
    }
    expect(sink.mode).toBe('inline')
    // And some after the switch, sealed inline.
    for (let j = 0; j < 20; j++) sink.push(prepare(n++))
    sink.push(close)
    await sink.end()
    const lines = readLines(file)
    // At-least-once: a batch the thread was writing when it died may appear twice, never zero times.
    expect(new Set(lines.map((l) => l.audit.details.i))).toEqual(new Set([...Array(n).keys()]))
    const streams = [...new Set(lines.map((l) => l.audit.integrity.stream))]
    expect(streams).toHaveLength(2)
    expect(streams[0]).toBe(o.chain.streamId)
    const report = verifyText(readFileSync(file, 'utf8'))
    const second = report.streams.find((s) => s.stream === streams[1])!
    expect(second.intact).toEqual([[0, second.lastSeq]])
    expect(second.closed).toBe(true)
    const first = report.streams.find((s) => s.stream === streams[0])!
    expect(first.intact).toEqual([[0, first.lastSeq]])
    expect(first.closed).toBe(false)
  })

  it('a thread that dies while flush() waits: flush() resolves once the resealed records are written', async () => {
    const file = join(dir, 'dies-at-flush.ndjson')
    const o = options(file, { workerFile: diesOnFirstBatch('throw') })
    const sink = start(o)
    for (let i = 0; i < 100; i++) sink.push(prepare(i))
    await sink.flush()
    expect(sink.mode).toBe('inline')
    expect(readLines(file).map((l) => l.audit.details.i)).toEqual([...Array(100).keys()])
    await sink.end()
  })

  it.each(['throw', 'exit'] as const)(
    'a thread that dies (%s) while end() waits: end() resolves once the resealed records are written',
    async (how) => {
      const file = join(dir, `dies-at-end-${how}.ndjson`)
      const o = options(file, { workerFile: diesOnFirstBatch(how) })
      const sink = start(o)
      for (let i = 0; i < 100; i++) sink.push(prepare(i))
      sink.push(close)
      await sink.end()
      expect(sink.mode).toBe('inline')
      const lines = readLines(file)
      expect(lines.map((l) => l.audit.details.i)).toEqual([...Array(100).keys()])
      // The thread wrote nothing, so the inline chain continues the original stream.
      expect(new Set(lines.map((l) => l.audit.integrity.stream))).toEqual(new Set([o.chain.streamId]))
      const report = verifyText(readFileSync(file, 'utf8'))
      expect(report.exitCode).toBe(0)
      expect(report.streams[0]!.intact).toEqual([[0, 101]])
    },
  )
})
