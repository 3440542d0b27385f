import { AsyncResource } from 'node:async_hooks'
import { type EventEmitter, errorMonitor } from 'node:events'
import { type QueryShape, queryShape, type Submittable, withCallback } from './query-shape'
import { guard } from './state'
import { type Endpoint, emit, type Prepared, prepare, rowsOf, type Tracer } from './tracer'

// The client.query layer shared by wrapClient (per instance) and instrumentPg (per prototype).
// It changes nothing pg does: same return value (the submittable itself, undefined with a callback,
// a promise otherwise), same errors, same callback `this`. It only observes completion, and makes
// sure both the audit event and the caller's callback run in the caller's async context (pg calls
// callbacks from the socket's context, which belongs to whoever opened the connection).

type AnyFunction = (...args: unknown[]) => unknown

/** AsyncResource without automatic destroy tracking: created per query, so it must stay cheap. */
function captureContext(): AsyncResource {
  return new AsyncResource('boundary-audit.pg.query', { requireManualDestroy: true })
}

export function auditQuery(
  tracer: Tracer,
  original: AnyFunction,
  client: Endpoint,
  args: IArguments | unknown[],
): unknown {
  if (guard.queryDepth > 0) return Reflect.apply(original, client, args)

  let shape: QueryShape | undefined
  let prepared: Prepared | null = null
  try {
    shape = queryShape(args[0], args[1], args[2])
    if (shape) prepared = prepare(tracer, shape.text, shape.name)
  } catch {
    shape = undefined
  }
  if (!shape || !prepared) return callBelow(original, client, args)

  const start = process.hrtime.bigint()

  if (shape.kind === 'promise') {
    const result = callBelow(original, client, args) as Promise<unknown> | undefined
    if (!result || typeof result.then !== 'function') return result
    // The continuation is attached here, in the caller's context, so the event is attributed to it.
    // The derived promise is returned (not the original) so an unhandled rejection stays unhandled.
    const p = prepared
    return result.then(
      (res) => {
        emit(tracer, p, client, start, undefined, rowsOf(res))
        return res
      },
      (err: unknown) => {
        emit(tracer, p, client, start, err ?? new Error('query failed'), undefined)
        throw err
      },
    )
  }

  if (shape.kind === 'callback') {
    const scope = captureContext()
    const callback = shape.callback!
    const p = prepared
    const wrapped = function (this: unknown, err: unknown, res: unknown) {
      return scope.runInAsyncScope(function (this: unknown) {
        emit(tracer, p, client, start, err ?? undefined, err ? undefined : rowsOf(res))
        scope.emitDestroy()
        return callback.call(this, err, res)
      }, this)
    }
    return callBelow(original, client, withCallback(args[0], args[1], wrapped))
  }

  // Submittable: returned untouched; completion observed through its events.
  try {
    observeSubmittable(tracer, prepared, client, start, shape.submittable!)
  } catch {
    // an object without the EventEmitter surface: not observable, still returned as-is
  }
  return callBelow(original, client, args)
}

function callBelow(original: AnyFunction, client: unknown, args: IArguments | unknown[]): unknown {
  guard.queryDepth++
  try {
    return Reflect.apply(original, client, args)
  } finally {
    guard.queryDepth--
  }
}

/**
 * Completion of a submittable. Every error pg delivers to it goes through its `handleError` (server
 * errors, query_timeout, a dead connection), but what happens next differs: pg's Query calls its
 * callback or emits `error`, pg-cursor emits `error` only when someone listens, pg-query-stream
 * surfaces it when read. So `handleError` is observed directly (an own property that calls the
 * original first thing), success through `end` (Query, Cursor; a cursor also ends after close())
 * or `close` (Readable streams: after end, destroy() and errors), and stream errors raised elsewhere
 * through `errorMonitor`, which does not count as a listener. No `row` listener on pg's Query: it
 * stops collecting rows when one exists; rows are counted on cursors only.
 */
function observeSubmittable(
  tracer: Tracer,
  prepared: Prepared,
  client: Endpoint,
  start: bigint,
  submittable: Submittable,
): void {
  const emitter = submittable as unknown as EventEmitter
  if (typeof emitter.once !== 'function' || typeof emitter.on !== 'function') return
  const scope = captureContext()
  let done = false
  let rows: number | undefined
  const finish = (err: unknown, result?: unknown) => {
    if (done) return
    done = true
    scope.runInAsyncScope(() => {
      emit(tracer, prepared, client, start, err, err ? undefined : (rows ?? rowsOf(result)))
    })
    scope.emitDestroy()
  }

  const cursor = isCursor(submittable)
    ? submittable
    : isCursor(submittable.cursor)
      ? submittable.cursor
      : undefined
  if (cursor) {
    rows = 0
    ;(cursor as unknown as EventEmitter).on('row', () => {
      rows!++
    })
  }
  const own = submittable as unknown as { handleError?: AnyFunction }
  const handleError = own.handleError
  if (typeof handleError === 'function') {
    own.handleError = function (this: unknown, ...a: unknown[]) {
      finish(a[0] ?? new Error('query failed'))
      return Reflect.apply(handleError, this, a)
    }
  }
  if (typeof (emitter as { pipe?: unknown }).pipe === 'function') {
    emitter.once('close', () => finish(undefined))
  } else {
    emitter.once('end', (result: unknown) => finish(undefined, result))
  }
  emitter.on(errorMonitor, (err: unknown) => {
    // Leaving a `for await` loop early destroys the stream with an AbortError: the consumer
    // stopped reading, the query did not fail. `close` follows and records it as a success.
    if ((err as { code?: unknown } | null)?.code === 'ABORT_ERR') return
    finish(err ?? new Error('query failed'))
  })
}

function isCursor(value: unknown): boolean {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as { read?: unknown }).read === 'function' &&
    typeof (value as { close?: unknown }).close === 'function' &&
    typeof (value as { submit?: unknown }).submit === 'function' &&
    typeof (value as { pipe?: unknown }).pipe !== 'function'
  )
}
