/**
 * The chain's own records: genesis (stream start), checkpoint (heartbeat) and closing (stream end).
 *
 * ECS values, chosen so that a stream's life reads like a process's life:
 *
 * | record     | event.action         | event.kind | event.category | event.type |
 * |------------|----------------------|------------|----------------|------------|
 * | genesis    | `audit-stream-start` | event      | process        | start      |
 * | checkpoint | `audit-checkpoint`   | state      | process        | info       |
 * | closing    | `audit-stream-end`   | event      | process        | end        |
 *
 * `event.kind: state` is ECS's kind for periodic reports of a system's state, which is what a
 * checkpoint is. The chain fields (seq, sealed key, previous stream, ...) are added by `seal()`
 * under `audit.integrity`. The logger adds `ecs.version` and `service` as for any event.
 */

/** Which chain record a record is; carried on a symbol so that it survives `{ ...record }` but is never written. */
export const MARK: unique symbol = Symbol('boundary-audit.integrity.mark')
export type Mark = 'start' | 'checkpoint' | 'end'

export const ACTIONS = {
  start: 'audit-stream-start',
  checkpoint: 'audit-checkpoint',
  end: 'audit-stream-end',
} as const

export function markOf(record: Record<string, unknown>): Mark | undefined {
  return (record as { [MARK]?: Mark })[MARK]
}

export function genesisRecord(
  time: string,
  keyed: boolean,
  kid: string | undefined,
): Record<string, unknown> {
  return {
    '@timestamp': time,
    'log.level': 'info',
    message: keyed
      ? `audit stream started; integrity chain keyed to verifier key ${kid}`
      : 'audit stream started; integrity chain NOT keyed (no verifier key configured): it shows accidental damage, not deliberate tampering',
    event: {
      kind: 'event',
      category: ['process'],
      type: ['start'],
      action: ACTIONS.start,
      outcome: 'success',
    },
    [MARK]: 'start',
  }
}

export function checkpointRecord(time: string): Record<string, unknown> {
  return {
    '@timestamp': time,
    'log.level': 'info',
    message: 'audit checkpoint',
    event: {
      kind: 'state',
      category: ['process'],
      type: ['info'],
      action: ACTIONS.checkpoint,
      outcome: 'success',
    },
    [MARK]: 'checkpoint',
  }
}

export function closingRecord(time: string, reason?: string): Record<string, unknown> {
  const event: Record<string, unknown> = {
    kind: 'event',
    category: ['process'],
    type: ['end'],
    action: ACTIONS.end,
    outcome: 'success',
  }
  if (reason !== undefined) event.reason = String(reason)
  return { '@timestamp': time, 'log.level': 'info', message: 'audit stream closed', event, [MARK]: 'end' }
}

/**
 * What is written in place of an event that could not be built, serialised or sealed: it still says
 * that something happened, and names the error's class only (its message could hold anything).
 */
export function internalErrorRecord(
  time: string,
  message: string,
  errorType: string,
): Record<string, unknown> & { event: Record<string, unknown> } {
  return {
    '@timestamp': time,
    'log.level': 'error',
    message,
    event: {
      kind: 'event',
      category: ['process'],
      type: ['error'],
      action: 'audit-internal-error',
      outcome: 'unknown',
    },
    error: { type: errorType },
  }
}
