/**
 * `log.level` -> SeverityNumber (values of the api-logs SeverityNumber enum, inlined so that this
 * file does not need the optional package). SeverityText keeps the level as written on the line.
 */
export const SEVERITY: Readonly<Record<string, { number: number; text: string }>> = {
  debug: { number: 5, text: 'debug' }, // DEBUG
  info: { number: 9, text: 'info' }, // INFO
  warn: { number: 13, text: 'warn' }, // WARN
  error: { number: 17, text: 'error' }, // ERROR
}

/** A record without a known level is logged as INFO (records are built by us; this is a guard). */
export function severityOf(level: unknown): { number: number; text: string } {
  return (typeof level === 'string' && SEVERITY[level]) || SEVERITY.info!
}
