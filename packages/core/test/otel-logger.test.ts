// The logger's OpenTelemetry option with core alone: every written line has its log record, with no
// SDK registered nothing breaks, and without the OTel packages installed core still works.

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { logs } from '@opentelemetry/api-logs'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { afterEach, describe, expect, it } from 'vitest'
import { createAuditLogger } from '../src/index'

const here = dirname(fileURLToPath(import.meta.url))

let provider: LoggerProvider | undefined
function installProvider() {
  const exporter = new InMemoryLogRecordExporter()
  provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] })
  logs.setGlobalLoggerProvider(provider)
  return exporter
}
afterEach(async () => {
  await provider?.shutdown()
  provider = undefined
  logs.disable()
})

const SSN = '219-09-9999'
const EMAIL = 'zebulon.quixote@example.org'

function writeSome(audit: ReturnType<typeof createAuditLogger>) {
  audit.login({ actor: { id: 'u-1', roles: ['clinician'] }, outcome: 'success', method: 'oidc' })
  audit.access({
    action: 'patient-record-read',
    resource: { type: 'patient', id: SSN },
    actor: { id: 'u-1' },
    details: { ssn: SSN, note: `mail ${EMAIL}` },
    message: `opened chart of ${EMAIL}`,
  })
  audit.login({ outcome: 'failure', attemptedIdentifier: EMAIL, reason: `bad password for ${EMAIL}` })
  audit.logout({ actor: { id: 'u-1' } })
}

describe('otel option of createAuditLogger', () => {
  it('sends every written line as a log record: same event, same redaction', async () => {
    const exporter = installProvider()
    const lines: string[] = []
    const audit = createAuditLogger({
      destination: { write: (l) => lines.push(l) },
      otel: { enabled: true },
      integrity: { enabled: false },
    })
    writeSome(audit)
    await audit.close()
    const written = lines.map((l) => JSON.parse(l))
    const records = exporter.getFinishedLogRecords()
    expect(records).toHaveLength(written.length)
    expect(written.length).toBe(4)
    written.forEach((line, i) => {
      const r = records[i]!
      expect(r.eventName).toBe(line.event.action)
      expect(r.body).toBe(line.message)
      expect(r.severityText).toBe(line['log.level'])
      expect(r.attributes['audit.event_id']).toBe(line.event.id)
      expect(r.attributes['audit.outcome']).toBe(line.event.outcome)
      expect(r.hrTime[0] * 1000 + Math.floor(r.hrTime[1] / 1e6)).toBe(Date.parse(line['@timestamp']))
    })
    expect(records[0]!.attributes).toMatchObject({
      'user.id': 'u-1',
      'user.roles': ['clinician'],
      'audit.auth_method': 'oidc',
    })
    expect(records[1]!.attributes['audit.resource.id']).toBe(written[1].audit.resource.id)
    const everything = JSON.stringify(records.map((r) => ({ b: r.body, a: r.attributes })))
    expect(everything).toContain('patient-record-read')
    expect(everything).not.toContain(SSN)
    expect(everything).not.toContain(EMAIL)
  })

  it('works with stdout off (destination: false): OTel is then the only output', async () => {
    const exporter = installProvider()
    const audit = createAuditLogger({
      destination: false,
      otel: { enabled: true },
      integrity: { enabled: false },
    })
    writeSome(audit)
    await audit.flush()
    await audit.close()
    expect(exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual([
      'user-login',
      'patient-record-read',
      'user-login',
      'user-logout',
    ])
    expect(audit.stats()).toMatchObject({ written: 4, dropped: 0, errors: 0 })
  })

  it('with no LoggerProvider registered, writes its lines as usual and throws nothing', async () => {
    logs.disable()
    const lines: string[] = []
    const audit = createAuditLogger({
      destination: { write: (l) => lines.push(l) },
      otel: { enabled: true },
      integrity: { enabled: false },
    })
    expect(() => writeSome(audit)).not.toThrow()
    await audit.close()
    expect(lines).toHaveLength(4)
    expect(audit.stats()).toMatchObject({ written: 4, dropped: 0, errors: 0 })
  })

  it('is off unless asked for: no log records without otel.enabled', async () => {
    const exporter = installProvider()
    const audit = createAuditLogger({ destination: { write: () => {} }, integrity: { enabled: false } })
    writeSome(audit)
    await audit.close()
    expect(exporter.getFinishedLogRecords()).toHaveLength(0)
  })

  it('turns on from BOUNDARY_AUDIT_OTEL=true', async () => {
    const exporter = installProvider()
    const saved = process.env.BOUNDARY_AUDIT_OTEL
    process.env.BOUNDARY_AUDIT_OTEL = 'true'
    try {
      const audit = createAuditLogger({ destination: { write: () => {} }, integrity: { enabled: false } })
      audit.logout({ actor: { id: 'u-2' } })
      await audit.close()
    } finally {
      if (saved === undefined) delete process.env.BOUNDARY_AUDIT_OTEL
      else process.env.BOUNDARY_AUDIT_OTEL = saved
    }
    expect(exporter.getFinishedLogRecords().map((r) => r.eventName)).toEqual(['user-logout'])
  })

  it('without the OpenTelemetry packages installed, still writes every line and warns once', async () => {
    // A child process in which every @opentelemetry/* module fails to resolve, through require
    // (what core uses) and import alike, as if the optional peers were not installed.
    const dir = mkdtempSync(join(tmpdir(), 'ba-otel-hidden-'))
    try {
      writeFileSync(
        join(dir, 'hooks.mjs'),
        `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@opentelemetry/')) {
    throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'ERR_MODULE_NOT_FOUND' })
  }
  return next(specifier, context)
}
`,
      )
      writeFileSync(
        join(dir, 'hide.mjs'),
        `import Module, { register } from 'node:module'
register('./hooks.mjs', import.meta.url)
const original = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (typeof request === 'string' && request.startsWith('@opentelemetry/')) {
    throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' })
  }
  return original.call(this, request, ...rest)
}
`,
      )
      const coreEntry = pathToFileURL(resolve(here, '../src/index.ts')).href
      writeFileSync(
        join(dir, 'main.mts'),
        `import { createRequire } from 'node:module'
const warnings = []
process.on('warning', (w) => warnings.push(w.message))
let hidden = false
try { createRequire(import.meta.url)('@opentelemetry/api-logs') } catch { hidden = true }
const { createAuditLogger } = await import(${JSON.stringify(coreEntry)})
const lines = []
const audit = createAuditLogger({
  destination: { write: (l) => lines.push(l) },
  otel: { enabled: true },
  integrity: { enabled: false },
})
audit.login({ actor: { id: 'u-1' }, outcome: 'success' })
audit.logout({ actor: { id: 'u-1' } })
await audit.close()
await new Promise((r) => setImmediate(r))
console.log(JSON.stringify({ hidden, lines: lines.length, stats: audit.stats(), warnings }))
`,
      )
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', pathToFileURL(join(dir, 'hide.mjs')).href, '--import', 'tsx', join(dir, 'main.mts')],
        { cwd: resolve(here, '..'), env: { ...process.env, NODE_OPTIONS: '' } },
      )
      const result = JSON.parse(stdout.trim().split('\n').pop()!)
      expect(result.hidden).toBe(true)
      expect(result.lines).toBe(2)
      expect(result.stats).toMatchObject({ written: 2, dropped: 0, errors: 0 })
      const otelWarnings = result.warnings.filter((w: string) => w.includes('OpenTelemetry'))
      expect(otelWarnings).toEqual([
        expect.stringMatching(/@opentelemetry\/api and @opentelemetry\/api-logs are not both installed/),
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// The OTel records carry the integrity fields of the line they mirror (audit.integrity.*), so a record in
// the OTel backend can be tied to its sealed line in the audit store. The logger hands the sealed record
// object to the emitter; it does not re-parse the line.
describe('otel records and the integrity chain', () => {
  it('carries the integrity fields of each sealed line', async () => {
    const exporter = installProvider()
    const lines: string[] = []
    const audit = createAuditLogger({
      destination: { write: (l) => lines.push(l) },
      otel: { enabled: true },
      integrity: { checkpointIntervalSeconds: 0 },
    })
    writeSome(audit)
    await audit.close()
    const written = lines.map((l) => JSON.parse(l))
    const records = exporter.getFinishedLogRecords()
    expect(records).toHaveLength(written.length) // genesis + 4 events + closing
    written.forEach((line, i) => {
      const attrs = records[i]!.attributes
      expect(records[i]!.eventName).toBe(line.event.action)
      expect(attrs['audit.integrity.stream']).toBe(line.audit.integrity.stream)
      expect(attrs['audit.integrity.seq']).toBe(line.audit.integrity.seq)
      expect(attrs['audit.integrity.mac']).toBe(line.audit.integrity.mac)
      if (line.audit.integrity.prev !== undefined)
        expect(attrs['audit.integrity.prev']).toBe(line.audit.integrity.prev)
    })
  })
})
