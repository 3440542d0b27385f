import { type AuditLogger, createAuditLogger } from '@boundary-audit/core'
import pg from 'pg'
import { inject } from 'vitest'

export const url = (): string => inject('pgUrl')

/** An audit logger whose lines land in an array. */
export function capture(): { audit: AuditLogger; lines: string[]; events: () => DbEvent[] } {
  const lines: string[] = []
  const audit = createAuditLogger({
    service: { name: 'pg-test' },
    destination: { write: (line: string) => lines.push(line) },
    integrity: { enabled: false },
  })
  const events = () =>
    lines.map((l) => JSON.parse(l) as DbEvent).filter((e) => e.event?.action === 'db-query')
  return { audit, lines, events }
}

/** The parts of a db-query line the tests look at. */
export interface DbEvent {
  'log.level': string
  message: string
  event: { action: string; type: string[]; category: string[]; outcome: string; duration?: number }
  user?: { id: string }
  http?: { request?: { id?: string } }
  trace?: { id: string }
  db: {
    system: { name: string }
    namespace?: string
    operation?: { name: string }
    collection?: { name: string }
    query?: { text?: string; summary?: string }
    response?: { returned_rows?: number; status_code?: string }
  }
  server?: { address: string; port: number }
  error?: { type: string; code?: string; message?: string }
  audit?: { db?: { fingerprint?: string; statement_name?: string; slow?: boolean } }
}

/** A schema of its own per test file, so files run in parallel without meeting. */
export async function createSchema(name: string): Promise<void> {
  const client = new pg.Client(url())
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
    await client.query(`CREATE SCHEMA ${name}`)
  } finally {
    await client.end()
  }
}

export async function dropSchema(name: string): Promise<void> {
  const client = new pg.Client(url())
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
  } finally {
    await client.end()
  }
}

/** Waits until `predicate` holds (events of callbacks and streams land a tick after the caller resumes). */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition')
    await new Promise((r) => setTimeout(r, 5))
  }
}
