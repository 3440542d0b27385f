/**
 * The pools the pg benchmarks compare (bench/index.ts in CPU time, bench/instructions.ts under
 * callgrind), one per case, each with its own connections and its own logger:
 *   raw-pg: a pg Pool;
 *   pino-line (the anchor): raw pg plus one plain pino line per query (to /dev/null): no redaction,
 *     no context, no chain. What it costs, every per-query audit line costs at least;
 *   audit-line: the same line as long as the audit line of this bench (~620 bytes: the fields
 *     DESIGN.md asks for; a filler added);
 *   audit-line-sha256: that line also linked to the one before by one SHA-256 of the line and the
 *     previous hash (scripts/bench-floor.mjs linkLines, on this thread, as it is written): the least
 *     any per-query line of the audit's size chained by hash can cost, whatever is keyed, sealed or
 *     redacted on top;
 *   wrap-pool: wrapPool with core's defaults (integrity chain on, sealed on the sealing thread);
 *   wrap-pool-inline: the chain sealed on the main thread (integrity.thread 'inline');
 *   wrap-pool-no-chain: core without its integrity chain;
 *   wrap-pool-noop: wrapPool with a logger that drops the records (the adapter's own cost).
 */
import { createAuditLogger } from '@boundary-audit/core'
import { wrapPool } from '@boundary-audit/pg'
import type PgModule from 'pg'
import pino from 'pino'
import { linkLines } from '../../../scripts/bench-floor.mjs'

export interface PoolCase {
  id: string
  /** The name bench/index.ts prints. */
  name: string
  pool: PgModule.Pool
  /** Resolves once every line of the queries so far is written (sealed first, where chained). */
  flush(): Promise<void>
  /** Closes the case's logger (not the pool). */
  close(): Promise<void>
}

export const CASES: Record<string, string> = {
  'raw-pg': 'raw pg',
  'pino-line': 'raw pg + pino line',
  'audit-line': 'floor: audit-size line',
  'audit-line-sha256': 'floor: + SHA-256 link',
  'wrap-pool': 'wrapPool',
  'wrap-pool-inline': 'wrapPool, inline chain',
  'wrap-pool-no-chain': 'wrapPool, no integrity',
  'wrap-pool-noop': 'wrapPool, no-op logger',
}

/** Pads the floor's pino line to the size of this bench's audit line (~620 bytes). */
const AUDIT_PAD = 'x'.repeat(430)

const done = async () => {}

/**
 * The case `id` on its own pool of `connections` to `connectionString`. `onAudit` is called for
 * every record the wrap-pool case writes (the bench counts them).
 */
export function createCase(
  pg: typeof PgModule,
  id: string,
  connectionString: string,
  connections: number,
  onAudit?: () => void,
): PoolCase {
  const name = CASES[id]
  if (name === undefined) throw new Error(`unknown case ${id} (cases: ${Object.keys(CASES).join(', ')})`)
  // idleTimeoutMillis 0: an idle pool keeps its clients, so the server backends whose CPU the
  // bench reads (by PID) live through every round; pg's default closes them after 10 s idle.
  const pool = new pg.Pool({ connectionString, max: connections, idleTimeoutMillis: 0 })
  const plainCase = (p: PgModule.Pool, flush = done, close = done) => ({ id, name, pool: p, flush, close })
  if (id === 'raw-pg') return plainCase(pool)
  if (id === 'pino-line') return pinoCase(plainCase, pool, undefined, false)
  if (id === 'audit-line') return pinoCase(plainCase, pool, AUDIT_PAD, false)
  if (id === 'audit-line-sha256') return pinoCase(plainCase, pool, AUDIT_PAD, true)
  const service = { name: 'pg-bench' }
  // The no-op case's logger has no chain: no sealing thread idling beside the adapter.
  const audit =
    id === 'wrap-pool-inline'
      ? createAuditLogger({ service, destination: '/dev/null', integrity: { thread: 'inline' } })
      : id === 'wrap-pool-no-chain' || id === 'wrap-pool-noop'
        ? createAuditLogger({ service, destination: '/dev/null', integrity: { enabled: false } })
        : createAuditLogger({ service, destination: '/dev/null' })
  const flush = () => audit.flush()
  const close = () => audit.close()
  if (id === 'wrap-pool-noop') return plainCase(wrapPool(pool, { ...audit, dbQuery: () => {} }), flush, close)
  if (id === 'wrap-pool' && onAudit) {
    const counting = {
      ...audit,
      dbQuery: (r: Parameters<typeof audit.dbQuery>[0]) => {
        onAudit()
        audit.dbQuery(r)
      },
    }
    return plainCase(wrapPool(pool, counting), flush, close)
  }
  return plainCase(wrapPool(pool, audit), flush, close)
}

function pinoCase(
  plainCase: (p: PgModule.Pool, flush?: () => Promise<void>) => PoolCase,
  pool: PgModule.Pool,
  pad: string | undefined,
  link: boolean,
): PoolCase {
  const dest = pino.destination({ dest: '/dev/null', sync: false })
  if (link) linkLines(dest)
  const log = pino(dest)
  const rawQuery = pool.query.bind(pool) as (text: string, values: unknown[]) => Promise<PgModule.QueryResult>
  ;(pool as unknown as { query: unknown }).query = async (text: string, values: unknown[]) => {
    const start = performance.now()
    const res = await rawQuery(text, values)
    const fields: Record<string, unknown> = {
      db: { system: 'postgresql', operation: 'SELECT', statement: text },
      rows: res.rowCount,
      durationMs: performance.now() - start,
    }
    if (pad !== undefined) fields.pad = pad
    log.info(fields, 'db-query')
    return res
  }
  // SonicBoom (sync: false, no minLength) has nothing buffered but the write in flight, if any.
  const writing = dest as unknown as { _writing: boolean }
  const flush = async () => {
    while (writing._writing) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  return plainCase(pool, flush)
}
