// Re-entrancy guards shared by every copy of this package in the process (the ESM and CommonJS
// builds may both be loaded): when a wrapped instance method calls a patched prototype method, or
// pool.query calls pool.connect, only the outermost layer audits, so each query is one event.

export interface PendingPoolQuery {
  /** Called by the pool.connect layer when the checkout for this pool.query fails. */
  connectFailed(err: unknown): void
}

export interface GuardState {
  /** > 0 while a client.query layer is calling the layer below it. */
  queryDepth: number
  /** > 0 while a pool.query layer is calling pg-pool's query. */
  poolQueryDepth: number
  /** > 0 while a pool.connect layer is calling the layer below it. */
  connectDepth: number
  /** The pool.query whose synchronous this.connect(cb) call is under way. */
  pendingPoolQuery: PendingPoolQuery | undefined
}

const key = Symbol.for('boundary-audit.pg.guard')
const holder = globalThis as { [key]?: GuardState }

if (!holder[key]) {
  holder[key] = { queryDepth: 0, poolQueryDepth: 0, connectDepth: 0, pendingPoolQuery: undefined }
}
export const guard: GuardState = holder[key]

/** Marks a client, pool or prototype as audited (value: the tracer holder). */
export const WRAPPED = Symbol.for('boundary-audit.pg.wrapped')
