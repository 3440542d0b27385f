import type { TestProject } from 'vitest/node'
import { ensurePostgres, type PostgresServer } from '../../../scripts/postgres.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string
    pgEmbedded: boolean
  }
}

let server: PostgresServer | undefined

export async function setup(project: TestProject): Promise<void> {
  server = await ensurePostgres()
  project.provide('pgUrl', server.connectionString)
  project.provide('pgEmbedded', server.embedded)
}

export async function teardown(): Promise<void> {
  await server?.stop()
}
