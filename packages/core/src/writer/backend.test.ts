/** The sealer on the logger's thread, with outputs that report progress synchronously. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAuditLogger, verifyText } from '../index'

const dir = mkdtempSync(join(tmpdir(), 'ba-backend-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('inline sealing', () => {
  it('sync: true to a file: every line written before the call returns, healthy, verifiable', async () => {
    // SonicBoom in sync mode reports each write while the sealer is still writing its genesis.
    const file = join(dir, 'sync.ndjson')
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    const audit = createAuditLogger({
      service: { name: 'svc' },
      destination: file,
      sync: true,
      integrity: { checkpointIntervalSeconds: 0 },
    })
    for (let i = 0; i < 20; i++) audit.login({ outcome: 'success', actor: { id: `u${i}` } })
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(21)
    expect(audit.stats()).toMatchObject({ accepted: 20, written: 20, dropped: 0, healthy: true })
    await audit.close()
    process.off('warning', onWarning)
    expect(warnings.filter((w) => w.includes('destination failed'))).toEqual([])
    const report = verifyText(readFileSync(file, 'utf8'))
    expect(report.exitCode).toBe(0)
    expect(report.streams[0]!.intact).toEqual([[0, 21]])
  })
})
