import type { AuditRecord } from './record'

/**
 * The JSON text of a finished record, as the line carries it. Must return exactly what
 * JSON.stringify(record) returns (the integrity chain splices this text), only faster where it can.
 */
export function serializeRecord(record: AuditRecord): string {
  return JSON.stringify(record)
}
