// The documented shutdown loses nothing: the example service (examples/otel-collector/app.mjs, with the
// NodeSDK of instrumentation.mjs) gets SIGTERM right after serving requests, closes the audit logger,
// shuts the SDK down, exits 0, and every line it wrote on stdout has arrived as an OTLP log record.

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { built, builtOf } from './built'
import { startReceiver } from './otel-receiver'

const here = dirname(fileURLToPath(import.meta.url))
const exampleDir = resolve(here, '../../../examples/otel-collector')

describe('shutdown with OpenTelemetry on (examples/otel-collector/app.mjs)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  let child: ChildProcess | undefined

  beforeAll(async () => {
    receiver = await startReceiver()
  })
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL')
    receiver?.server.close()
  })

  it('SIGTERM: audit.close() then sdk.shutdown() delivers every event, the closing record included', async () => {
    // Plain node on the built packages, as an app runs them (`npm test` builds first; a dist/ older
    // than its src/ is refused). No TypeScript loader in the child.
    built('index.js')
    builtOf(resolve(here, '../../express'), 'index.js')
    child = spawn(process.execPath, ['app.mjs'], {
      cwd: exampleDir,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: '0',
        OTEL_SERVICE_NAME: 'otel-shutdown-test',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: receiver.url,
        // Only logs go anywhere: no trace or metric exporter trying to reach a default endpoint.
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
        BOUNDARY_AUDIT_CHECKPOINT_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => {
      stdout += d
    })
    const port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`the example did not start:\n${stderr}`)), 60_000)
      child!.stderr!.on('data', (d) => {
        stderr += d
        const m = /listening on (\d+)/.exec(stderr)
        if (m) {
          clearTimeout(timer)
          resolvePort(Number(m[1]))
        }
      })
      child!.once('exit', (code) => reject(new Error(`the example exited (${code}):\n${stderr}`)))
    })

    for (const id of ['p-1', 'p-2', 'p-3']) {
      const res = await fetch(`http://127.0.0.1:${port}/patients/${id}`)
      expect(res.status).toBe(200)
      await res.text()
    }
    // Nothing has been exported yet (the batch processor waits a second): the shutdown must do it.
    // 'close', not 'exit': stdout may still hold unread lines when the process has exited.
    const exit = once(child, 'close')
    child.kill('SIGTERM')
    const [code, signal] = await exit
    expect({ code, signal, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, signal: null, stderr: '' })

    // In seq order: a line still being written asynchronously when the signal comes can land after
    // the closing record, which the signal handler writes synchronously.
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .sort((a, b) => a.audit.integrity.seq - b.audit.integrity.seq)
    const actions = lines.map((l) => l.event.action)
    expect(actions[0]).toBe('audit-stream-start')
    expect(actions.at(-1)).toBe('audit-stream-end')
    expect(actions.filter((a) => a === 'patient-record-read')).toHaveLength(3)
    expect(actions.filter((a) => a === 'patient-chart-open')).toHaveLength(3)

    // Every line has its record, in the same order, and all from this service.
    const records = receiver.records
    expect(records.map((r) => r.eventName)).toEqual(actions)
    expect(records.map((r) => r.body)).toEqual(lines.map((l) => l.message))
    expect(new Set(records.map((r) => r.resource['service.name']))).toEqual(new Set(['otel-shutdown-test']))
    const ids = lines.filter((l) => l.event.id).map((l) => l.event.id)
    expect(
      records.filter((r) => r.attributes['audit.event_id']).map((r) => r.attributes['audit.event_id']),
    ).toEqual(ids)
  })
})
