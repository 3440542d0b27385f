// OpenTelemetry log export: the same events as the ECS lines, as LogRecords via @opentelemetry/api-logs.
export { ATTRIBUTE_TABLE, SCHEMA_URL, SEMCONV_VERSION, toAttributes } from './attributes'
export { createOtelEmitter, type OtelEmitter, type OtelEmitterOptions, toLogRecord } from './emitter'
export { loadOtelApis, type ModuleLoader } from './load'
