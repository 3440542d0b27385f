// OpenTelemetry SDK for a service that sends its boundary-audit events as OTel log records.
// Load it before anything else: `node --import ./instrumentation.mjs app.mjs` (or import it first).
//
// Endpoint and headers come from the standard variables, e.g.
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318   OTEL_SERVICE_NAME=clinic-api

import { watchLogExporter } from '@boundary-audit/core'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { BatchLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { NodeSDK } from '@opentelemetry/sdk-node'

// Watched: the audit logger counts its results (audit.stats().otel) and, once closed, gives each export
// and the exporter's shutdown at most 2 s, instead of the retries of a collector that is gone (~8 s).
export const logExporter = watchLogExporter(new OTLPLogExporter())

export const sdk = new NodeSDK({
  logRecordProcessors: [
    new BatchLogRecordProcessor({
      exporter: logExporter,
      // The default queue (2048 records) drops records when the collector is slow or away for a
      // while; for an audit trail, give it room (each queued record is a few hundred bytes).
      maxQueueSize: 65_536,
      maxExportBatchSize: 512,
      scheduledDelayMillis: 1000,
    }),
  ],
  // The HTTP server span: boundary-audit's records carry its trace and span ids.
  instrumentations: [new HttpInstrumentation()],
})
sdk.start()
