/**
 * The sealing thread's output to files and devices (fd-output.ts): texts go to write(2) as they are,
 * so what arrives must be exactly the UTF-8 of what was handed over, whole and in order, and counted;
 * a device that refuses (ENOSPC from /dev/full) fails the output and counts what it lost.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fdOutput } from './fd-output'

const dir = mkdtempSync(join(tmpdir(), 'ba-fd-output-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Chunks of numbered lines, some with 2-, 3- and 4-byte characters, as the sealer hands them over. */
function chunks(count: number, perChunk: number): string[] {
  return Array.from({ length: count }, (_, c) => {
    let text = ''
    for (let i = 0; i < perChunk; i++)
      text += `{"n":${c * perChunk + i},"pad":"${'é€x𝄞'.repeat(40 + (i % 9))}"}\n`
    return text
  })
}

describe('fdOutput to a file', () => {
  it('writes every text byte for byte, in order, and counts the events once written', async () => {
    const path = join(dir, 'trail.log')
    const reports: string[] = []
    let changes = 0
    const output = fdOutput(path, { onChange: () => changes++, report: (m) => reports.push(m) })
    const texts = chunks(30, 25)
    for (const text of texts) output.write(text, 25)
    await new Promise<void>((resolve) => output.whenWritten(resolve))
    expect(output.written).toBe(750)
    expect(output.idle).toBe(true)
    expect(output.room).toBe(true)
    expect(changes).toBeGreaterThanOrEqual(30)
    await output.end()
    expect(readFileSync(path)).toEqual(Buffer.from(texts.join(''), 'utf8'))
    expect(reports).toEqual([])
  })

  it('writes a text marked ASCII as it is and counts it by its length', async () => {
    const path = join(dir, 'ascii.log')
    const output = fdOutput(path, { onChange: () => {}, report: () => {} })
    const texts = Array.from({ length: 20 }, (_, c) => {
      let text = ''
      for (let i = 0; i < 40; i++) text += `{"n":${c * 40 + i},"pad":"${'x'.repeat(700 + i)}"}\n`
      return text
    })
    for (const text of texts) output.write(text, 40, true)
    await new Promise<void>((resolve) => output.whenWritten(resolve))
    expect(output.written).toBe(800)
    expect(output.idle).toBe(true)
    await output.end()
    expect(readFileSync(path)).toEqual(Buffer.from(texts.join(''), 'utf8'))
  })

  it('appends to what the file already holds', async () => {
    const path = join(dir, 'nested', 'again.log')
    for (const n of [1, 2]) {
      const output = fdOutput(path, { onChange: () => {}, report: () => {} })
      output.write(`{"run":${n},"ü":"ß"}\n`, 1)
      await output.end()
    }
    expect(readFileSync(path, 'utf8')).toBe('{"run":1,"ü":"ß"}\n{"run":2,"ü":"ß"}\n')
  })
})

describe.runIf(existsSync('/dev/full'))('fdOutput to a device that refuses the write', () => {
  it('fails, says so once, and counts every event handed over as lost', async () => {
    const reports: string[] = []
    const output = fdOutput('/dev/full', { onChange: () => {}, report: (m) => reports.push(m) })
    output.write('{"n":1}\n{"n":2}\n', 2)
    output.write('{"n":3}\n', 1)
    await new Promise<void>((resolve) => output.whenWritten(resolve))
    expect(output.failed).toBe(true)
    expect(output.written).toBe(0)
    expect(output.lost).toBe(3)
    expect(output.room).toBe(false)
    expect(reports).toEqual(['destination failed (ENOSPC); events are being dropped'])
    await output.end()
  })
})
