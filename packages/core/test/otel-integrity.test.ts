// The OTel log records carry the integrity fields of the line they mirror (audit.integrity.*), so a
// record in the OTel backend can be tied to its sealed line in the audit store.
// Needs the chain to leave audit.integrity on the record object it seals (the logger hands that same
// object to the OTel emitter after writing the line; it does not re-parse the line).

import { logs } from '@opentelemetry/api-logs'
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs'
import { afterEach, describe, expect, it } from 'vitest'
import { createAuditLogger } from '../src/index'

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

function writeSome(audit: ReturnType<typeof createAuditLogger>) {
  audit.login({ actor: { id: 'u-1', roles: ['clinician'] }, outcome: 'success', method: 'oidc' })
  audit.access({
    action: 'patient-record-read',
    resource: { type: 'patient', id: 'p-1' },
    actor: { id: 'u-1' },
  })
  audit.logout({ actor: { id: 'u-1' } })
}

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
    expect(records).toHaveLength(written.length) // genesis + 3 events + closing
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
