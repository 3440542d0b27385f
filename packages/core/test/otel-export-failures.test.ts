// OpenTelemetry export failures are counted in stats(), and shutdown is bounded when the collector is
// gone: the real OTLP/HTTP log exporter, watched (watchLogExporter), behind the SDK's
// BatchLogRecordProcessor, exporting to an OTLP receiver this test starts on 127.0.0.1 and then stops.
// Unwatched, sdk.shutdown() with the collector gone takes about 8 s (the exporter's retries within its
// 10 s timeout); watched, close() bounds it to shutdownExportMs.

import { logs } from '@opentelemetry/api-logs'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { afterAll, describe, expect, it } from 'vitest'
import { createAuditLogger, watchLogExporter } from '../src/index'
import { startReceiver } from './otel-receiver'

describe('watchLogExporter: export failures in stats(), a bounded shutdown', () => {
  afterAll(() => logs.disable())

  it('counts what reached the collector and what did not; sdk shutdown with the collector gone takes the bound, not the retries', async () => {
    const receiver = await startReceiver()
    const exporter = watchLogExporter(new OTLPLogExporter({ url: receiver.url }), { shutdownExportMs: 1500 })
    const provider = new LoggerProvider({
      // A long delay: batches leave when the test flushes.
      processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60_000 })],
    })
    logs.setGlobalLoggerProvider(provider)
    const lines: string[] = []
    const audit = createAuditLogger({
      service: { name: 'otel-failures' },
      destination: { write: (line: string) => lines.push(line) },
      integrity: { checkpointIntervalSeconds: 0 },
      otel: { enabled: true, exporter },
    })
    expect(audit.stats().otel).toEqual({ exported: 0, failed: 0 })

    for (let i = 0; i < 5; i++)
      audit.event({ action: 'tick', category: 'process', type: 'info', details: { i } })
    await audit.flush()
    await provider.forceFlush()
    expect(receiver.records.length).toBeGreaterThanOrEqual(5)
    expect(audit.stats().otel).toEqual({ exported: receiver.records.length, failed: 0 })
    const delivered = receiver.records.length

    // The collector goes away (connections refused from now on).
    receiver.server.closeAllConnections()
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()))

    for (let i = 5; i < 8; i++)
      audit.event({ action: 'tick', category: 'process', type: 'info', details: { i } })
    await audit.close()
    const started = Date.now()
    await provider.shutdown()
    const took = Date.now() - started
    // The bound (1.5 s for the export, as long again at most for the exporter's own shutdown), not ~8 s.
    expect(took).toBeLessThan(4000)
    // Every record handed to the SDK after the stop (3 events and the closing record) is counted failed.
    const handed = lines.length
    expect(audit.stats().otel).toEqual({ exported: delivered, failed: handed - delivered })
    expect(handed - delivered).toBe(4)
    expect(receiver.records.length).toBe(delivered)
  }, 30_000)

  it('fails at creation, saying what to change, when otel.exporter is not a watched exporter or otel is off', () => {
    const plain = new OTLPLogExporter({ url: 'http://127.0.0.1:1/v1/logs' })
    expect(() =>
      createAuditLogger({ destination: false, otel: { enabled: true, exporter: plain as never } }),
    ).toThrow(/otel\.exporter must be what watchLogExporter\(yourLogExporter\) returns/)
    expect(() => createAuditLogger({ otel: { enabled: false, exporter: watchLogExporter(plain) } })).toThrow(
      /otel\.exporter is set but otel\.enabled is false/,
    )
    expect(() => watchLogExporter({} as never)).toThrow(/needs a log exporter/)
    expect(() => watchLogExporter(plain, { shutdownExportMs: -1 })).toThrow(/shutdownExportMs/)
  })
})
