import { context, trace } from '@opentelemetry/api'
import { logs, SeverityNumber } from '@opentelemetry/api-logs'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { node } from '@opentelemetry/sdk-node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SCHEMA_URL } from './attributes'
import { createOtelEmitter } from './emitter'

const record = (over: Record<string, unknown> = {}) => ({
  '@timestamp': '2026-11-29T01:02:03.456Z',
  'log.level': 'info',
  message: 'patient-record-read patient success',
  'ecs.version': '8.17.0',
  event: {
    kind: 'event',
    category: ['database'],
    type: ['access'],
    action: 'patient-record-read',
    outcome: 'success',
  },
  audit: {
    resource: { type: 'patient', id: 'pz_1' },
    integrity: { stream: 's', seq: 3, prev: 'p', mac: 'm' },
  },
  ...over,
})

let exporter: InMemoryLogRecordExporter
let provider: LoggerProvider
const tracerProvider = new node.NodeTracerProvider()

beforeAll(() => {
  tracerProvider.register() // also installs the AsyncLocalStorage context manager
})
afterAll(async () => {
  await tracerProvider.shutdown()
  trace.disable()
  context.disable()
})

function installProvider() {
  exporter = new InMemoryLogRecordExporter()
  provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] })
  logs.setGlobalLoggerProvider(provider)
}
afterEach(async () => {
  await provider?.shutdown()
  logs.disable()
})

describe('createOtelEmitter', () => {
  it('emits one LogRecord per event with EventName, severity, body, timestamp and attributes', () => {
    installProvider()
    const emitter = createOtelEmitter({ loggerName: '@boundary-audit/core', version: '0.1.0' })
    emitter.emit(record({ 'log.level': 'warn', message: 'm1' }))
    const [out] = exporter.getFinishedLogRecords()
    expect(exporter.getFinishedLogRecords()).toHaveLength(1)
    expect(out!.eventName).toBe('patient-record-read')
    expect(out!.severityNumber).toBe(SeverityNumber.WARN)
    expect(out!.severityText).toBe('warn')
    expect(out!.body).toBe('m1')
    expect(out!.hrTime).toEqual([Math.floor(Date.parse('2026-11-29T01:02:03.456Z') / 1000), 456_000_000])
    expect(out!.attributes).toMatchObject({
      'audit.outcome': 'success',
      'audit.resource.type': 'patient',
      'audit.resource.id': 'pz_1',
      'audit.integrity.seq': 3,
      'audit.integrity.mac': 'm',
    })
    expect(out!.attributes).not.toHaveProperty('event.name')
    expect(out!.instrumentationScope).toEqual({
      name: '@boundary-audit/core',
      version: '0.1.0',
      schemaUrl: SCHEMA_URL,
    })
  })

  it('maps every level to its severity number', () => {
    installProvider()
    const emitter = createOtelEmitter({ loggerName: 'x' })
    for (const level of ['debug', 'info', 'warn', 'error', 'bogus'])
      emitter.emit(record({ 'log.level': level }))
    expect(exporter.getFinishedLogRecords().map((r) => r.severityNumber)).toEqual([
      SeverityNumber.DEBUG,
      SeverityNumber.INFO,
      SeverityNumber.WARN,
      SeverityNumber.ERROR,
      SeverityNumber.INFO,
    ])
  })

  it('takes trace and span ids from the active span', () => {
    installProvider()
    const emitter = createOtelEmitter({ loggerName: 'x' })
    const span = tracerProvider.getTracer('t').startSpan('request')
    const sc = span.spanContext()
    context.with(trace.setSpan(context.active(), span), () => {
      emitter.emit(record({ trace: { id: sc.traceId }, span: { id: sc.spanId } }))
    })
    span.end()
    const out = exporter.getFinishedLogRecords()[0]!
    expect(out.spanContext).toMatchObject({
      traceId: sc.traceId,
      spanId: sc.spanId,
      traceFlags: sc.traceFlags,
    })
  })

  it('uses the ids on the record (from a traceparent) when no span is active', () => {
    installProvider()
    const emitter = createOtelEmitter({ loggerName: 'x' })
    emitter.emit(
      record({ trace: { id: '0af7651916cd43dd8448eb211c80319c' }, span: { id: 'b7ad6b7169203331' } }),
    )
    emitter.emit(record()) // no ids anywhere: no span context
    emitter.emit(record({ trace: { id: 'not-hex' }, span: { id: 'b7ad6b7169203331' } })) // invalid: ignored
    const [withIds, without, invalid] = exporter.getFinishedLogRecords()
    expect(withIds!.spanContext).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    })
    expect(without!.spanContext).toBeUndefined()
    expect(invalid!.spanContext).toBeUndefined()
  })

  it('follows the ids on the record when they name another trace than the active span', () => {
    installProvider()
    const emitter = createOtelEmitter({ loggerName: 'x' })
    const span = tracerProvider.getTracer('t').startSpan('other')
    context.with(trace.setSpan(context.active(), span), () => {
      emitter.emit(
        record({ trace: { id: '0af7651916cd43dd8448eb211c80319c' }, span: { id: 'b7ad6b7169203331' } }),
      )
    })
    span.end()
    expect(exporter.getFinishedLogRecords()[0]!.spanContext).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    })
  })

  it('sends nothing, throws nothing and skips the mapping with no LoggerProvider registered', () => {
    logs.disable()
    const emitter = createOtelEmitter({ loggerName: 'x' })
    let read = 0
    const watched = new Proxy(record(), {
      get(target, key, receiver) {
        if (key === 'audit') read++
        return Reflect.get(target, key, receiver)
      },
    })
    expect(() => emitter.emit(watched)).not.toThrow()
    expect(read).toBe(0) // the no-op logger said it is not enabled, so no attributes were built
  })

  it('respects a logger that is turned off (enabled() false)', () => {
    let emitted = 0
    logs.setGlobalLoggerProvider({
      getLogger: () => ({
        enabled: (o?: { severityNumber?: number }) => (o?.severityNumber ?? 0) >= SeverityNumber.WARN,
        emit() {
          emitted++
        },
      }),
    })
    const emitter = createOtelEmitter({ loggerName: 'x' })
    emitter.emit(record({ 'log.level': 'info' }))
    emitter.emit(record({ 'log.level': 'error' }))
    expect(emitted).toBe(1)
  })

  it('picks up a provider registered after the emitter was created', () => {
    logs.disable()
    const emitter = createOtelEmitter({ loggerName: 'x' })
    emitter.emit(record({ message: 'before' }))
    installProvider()
    emitter.emit(record({ message: 'after' }))
    expect(exporter.getFinishedLogRecords().map((r) => r.body)).toEqual(['after'])
  })

  it('reports once and turns itself off when the API packages cannot be loaded', () => {
    const messages: string[] = []
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' })
    }
    const emitter = createOtelEmitter({ loggerName: 'x', load: missing, report: (m) => messages.push(m) })
    expect(() => emitter.emit(record())).not.toThrow()
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(/@opentelemetry\/api and @opentelemetry\/api-logs are not both installed/)
  })

  it('reports an API too old to use', () => {
    const messages: string[] = []
    createOtelEmitter({ loggerName: 'x', load: () => ({}), report: (m) => messages.push(m) })
    expect(messages[0]).toMatch(/too old/)
  })

  it('never throws when the SDK logger throws, and reports that once', () => {
    const messages: string[] = []
    logs.setGlobalLoggerProvider({
      getLogger: () => ({
        enabled: () => true,
        emit() {
          throw new RangeError('boom')
        },
      }),
    })
    const emitter = createOtelEmitter({ loggerName: 'x', report: (m) => messages.push(m) })
    expect(() => {
      emitter.emit(record())
      emitter.emit(record())
    }).not.toThrow()
    expect(messages).toEqual([expect.stringMatching(/could not be sent to OpenTelemetry \(RangeError\)/)])
  })
})
