import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AuditLogger, type AuditLoggerOptions, createAuditLogger } from '@boundary-audit/core'
import express5 from 'express'
import express4 from 'express4'

/** Both Express majors: every behaviour is tested on each. */
export const versions = [
  ['express 5', express5],
  ['express 4', express4],
] as const

export type ExpressFactory = typeof express5

/** PHI planted in requests: none of it may ever appear in a captured line. */
export const PHI = {
  ssn: '123-45-6789',
  email: 'jane.doe@example.com',
  phone: '(555) 867-5309',
  card: '4111 1111 1111 1111',
  name: 'Jane Q Patient',
  mrn: 'MRN-48213377',
  dob: '1961-07-04',
}

/** A logger whose lines land in an array; the MRN format is a custom detector, as a service would add. */
export function capture(options: AuditLoggerOptions = {}): {
  audit: AuditLogger
  lines: string[]
  events: () => any[]
  http: () => any[]
} {
  const lines: string[] = []
  const audit = createAuditLogger({
    service: { name: 'express-test', version: '0.0.1', environment: 'test' },
    integrity: { enabled: false },
    redaction: {
      detectors: [{ name: 'mrn', pattern: /MRN-\d{8}/g }],
      pseudonymKey: 'test-pseudonym-key-0123456789',
    },
    ...options,
    destination: { write: (line: string) => lines.push(line) },
  })
  const events = () => lines.map((l) => JSON.parse(l))
  const http = () => events().filter((e) => e.event?.category?.includes('web'))
  return { audit, lines, events, http }
}

/** Starts `app` on 127.0.0.1 on a free port. */
export async function listen(
  app: (req: any, res: any) => void,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Polls until `check` returns a truthy value (events are written when the response finishes). */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const start = Date.now()
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() - start > timeoutMs) throw new Error('waitFor: timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Asserts that no planted identifier appears anywhere in the captured output. */
export function expectNoPhi(lines: readonly string[], extra: readonly string[] = []): void {
  const all = lines.join('')
  for (const value of [...Object.values(PHI), ...extra]) {
    if (all.includes(value)) throw new Error(`PHI leaked into the audit output: ${value}\n${all}`)
    const encoded = encodeURIComponent(value)
    if (encoded !== value && all.includes(encoded)) throw new Error(`PHI leaked (URL-encoded): ${encoded}`)
  }
}

export { clearIdsNextToPseudonyms } from '../../../scripts/clear-ids.mjs'
