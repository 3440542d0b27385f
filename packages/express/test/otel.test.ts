import { context, trace } from '@opentelemetry/api'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditMiddleware } from '../src/index'
import { capture, listen, versions, waitFor } from './helpers'

// A registered tracer provider and an active server span, as instrumentation-http would create.
let provider: NodeTracerProvider
beforeAll(() => {
  provider = new NodeTracerProvider()
  provider.register()
})
afterAll(async () => {
  await provider.shutdown()
  trace.disable()
  context.disable()
})

describe.each(versions)('%s: OpenTelemetry', (_name, express) => {
  it('an active span wins over the traceparent header, for the request event and nested events', async () => {
    const { audit, events } = capture()
    const tracer = trace.getTracer('test')
    const app = express()
    app.use((_req, _res, next) => {
      const span = tracer.startSpan('GET /x')
      context.with(trace.setSpan(context.active(), span), () => next())
    })
    app.use(auditMiddleware(audit))
    app.get('/x', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1))
      audit.event({ action: 'inner', category: 'api', type: 'info' })
      res.json({
        traceId: trace.getActiveSpan()?.spanContext().traceId,
        contextTrace: audit.getContext()?.traceId ?? null,
      })
    })
    const srv = await listen(app)
    try {
      const headerTrace = '4bf92f3577b34da6a3ce929d0e0e4736'
      const res = await fetch(`${srv.url}/x`, {
        headers: { traceparent: `00-${headerTrace}-00f067aa0ba902b7-01` },
      })
      const { traceId, contextTrace } = (await res.json()) as { traceId: string; contextTrace: string | null }
      // the header's ids are not copied into the audit context while a span is active
      expect(contextTrace).toBeNull()
      expect(traceId).toMatch(/^[0-9a-f]{32}$/)
      const [inner, request] = await waitFor(() => events().length === 2 && events())
      expect(inner.trace.id).toBe(traceId)
      expect(request.trace.id).toBe(traceId)
      expect(traceId).not.toBe(headerTrace)
    } finally {
      await srv.close()
    }
  })
})
