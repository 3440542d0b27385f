import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { builtFixture } from './built'

const fixture = builtFixture('exit-writer.mjs')

interface Result {
  code: number | null
  signal: NodeJS.Signals | null
  lines: string[]
  stderr: string
}

/** Runs the fixture with stdout on a pipe (as under Kubernetes), optionally sending a signal once it is ready. */
function run(
  thread: string,
  mode: string,
  signal?: NodeJS.Signals,
  extra: Record<string, string> = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture], {
      env: {
        ...process.env,
        MODE: mode,
        N: '5000',
        BOUNDARY_AUDIT_INTEGRITY: 'on',
        BOUNDARY_AUDIT_CHECKPOINT_SECONDS: '0',
        BOUNDARY_AUDIT_SEAL_THREAD: thread,
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    let signalled = false
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d))
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d
      // Once, as Kubernetes does: a second SIGTERM (any later stderr chunk used to send one) finds
      // no handler of ours, which has removed itself to re-raise the first, and kills at once, as
      // a second Ctrl-C should. CI saw 102 of 5,000 lines that way, under load.
      if (signal && !signalled && err.includes('ready\n')) {
        signalled = true
        child.kill(signal)
      }
    })
    child.on('error', reject)
    child.on('close', (code, sig) =>
      resolve({ code, signal: sig, lines: out.split('\n').filter(Boolean), stderr: err }),
    )
  })
}

function ticks(lines: string[]): number {
  return lines.filter((l) => JSON.parse(l).event.action === 'tick').length
}

/** The chain's sequence numbers in the order the lines arrived. */
function inOrder(lines: string[]): boolean {
  const seqs = lines.map((l) => JSON.parse(l).audit.integrity.seq as number)
  return seqs.every((s, i) => s === i)
}

function closingRecords(lines: string[]): number {
  return lines.filter((l) => /"action":"audit-stream-end"/.test(l)).length
}

// Both ways of sealing: on the sealing thread (the default for stdout) and inline (SonicBoom on the main thread).
describe.each(['worker', 'inline'])('no event accepted before exit is lost (sealing: %s)', (thread) => {
  it('process.exit() right after 5,000 async writes: every line arrives', async () => {
    const r = await run(thread, 'exit')
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(`sealing: ${thread}`)
    expect(ticks(r.lines)).toBe(5000)
    expect(closingRecords(r.lines)).toBe(1)
  })

  it('process.exit() with 3 MB unwritten and a 3 s deadline: every line arrives in time', async () => {
    // Written synchronously at exit: SonicBoom's own flushSync slept 100 ms at every full pipe and
    // the exit waited 250 ms for each batch it sealed, 4.4 s for these 5,000 events on an idle
    // machine; past this deadline the rest was dropped.
    const r = await run(thread, 'exit', undefined, { BOUNDARY_AUDIT_SHUTDOWN_TIMEOUT_MS: '3000' })
    expect(r.code).toBe(0)
    expect(ticks(r.lines)).toBe(5000)
    expect(closingRecords(r.lines)).toBe(1)
    expect(inOrder(r.lines)).toBe(true)
  })

  it('the event loop running dry: closing record written asynchronously, every line in order', async () => {
    const r = await run(thread, 'natural')
    expect(r.code).toBe(0)
    expect(ticks(r.lines)).toBe(5000)
    expect(closingRecords(r.lines)).toBe(1)
    expect(inOrder(r.lines)).toBe(true)
  })

  it('an uncaught exception still flushes, and the host still crashes with its own exit code', async () => {
    const r = await run(thread, 'throw')
    expect(r.code).toBe(1)
    expect(ticks(r.lines)).toBe(5000)
  })

  it('SIGTERM with no host handler: lines flushed, and the process still dies of SIGTERM', async () => {
    const r = await run(thread, 'signal', 'SIGTERM')
    expect(r.signal).toBe('SIGTERM')
    expect(ticks(r.lines)).toBe(5000)
    expect(closingRecords(r.lines)).toBe(1)
    // finished asynchronously: a write in flight at the signal lands before the closing record
    expect(inOrder(r.lines)).toBe(true)
  })

  it("SIGTERM with the host's own handler: the host decides the exit code, lines still flushed", async () => {
    const r = await run(thread, 'host-handler', 'SIGTERM')
    expect(r.code).toBe(3)
    expect(ticks(r.lines)).toBe(5000)
  })
})
