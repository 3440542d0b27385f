import { type AuditLogger, type AuditLoggerOptions, createAuditLogger } from '../src/index'

/** A logger whose lines land in an array, parsed; integrity off unless asked for. */
export function capture(options: AuditLoggerOptions = {}): {
  audit: AuditLogger
  lines: string[]
  events: () => any[]
} {
  const lines: string[] = []
  const audit = createAuditLogger({
    service: { name: 'test-svc', version: '0.0.1', environment: 'test' },
    integrity: { enabled: false },
    ...options,
    destination: { write: (line: string) => lines.push(line) },
  })
  return { audit, lines, events: () => lines.map((l) => JSON.parse(l)) }
}

/**
 * One `patient-record-read` access to patient `id` by `actor` (an id or an actor object), with any
 * further access fields: the access the monitor's tests repeat.
 */
export function readPatient(
  audit: AuditLogger,
  actor: string | { id: string; roles?: string[] },
  id: string,
  more: Record<string, unknown> = {},
): void {
  audit.access({
    action: 'patient-record-read',
    resource: { type: 'patient', id },
    actor: typeof actor === 'string' ? { id: actor } : actor,
    ...more,
  } as never)
}
