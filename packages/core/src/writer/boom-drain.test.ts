/**
 * A SonicBoom output (output.ts) on a real FIFO when the pipe is full: at run time it tries again
 * within milliseconds; at exit (boom-drain.ts through flushSync) what is written arrives whole, once
 * and in order, and a deadline reached while the pipe is full leaves the rest, even a chunk cut in
 * the middle of a multi-byte character, for the next call.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { boomOutput } from './output'

const dir = mkdtempSync(join(tmpdir(), 'ba-boom-drain-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Lines of about 600 bytes, some with 2- and 3-byte characters, numbered. */
function lines(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `{"n":${i},"pad":"${'é€x'.repeat(150 + (i % 7))}"}\n`)
}

/** A FIFO with its read end held open here (non-blocking) and its write end non-blocking, as a pipe to a log shipper is. */
function fifo() {
  const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`)
  execFileSync('mkfifo', [path])
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
  return { path, readFd, writeFd }
}

/** Reads what the pipe holds now, without waiting. */
function readAvailable(fd: number): Buffer {
  const parts: Buffer[] = []
  const buf = Buffer.alloc(65536)
  for (;;) {
    try {
      const n = readSync(fd, buf)
      if (n === 0) break
      parts.push(Buffer.from(buf.subarray(0, n)))
    } catch (err) {
      if ((err as { code?: string }).code === 'EAGAIN') break
      throw err
    }
  }
  return Buffer.concat(parts)
}

/**
 * `cat` reading the FIFO into a file, once it has the FIFO open (it says so): closing the test's
 * own read end before then leaves the pipe without a reader (EPIPE). A fixed 200 ms was not
 * always enough for the shell to start on a loaded machine.
 */
async function catInto(path: string, out: string): Promise<ChildProcess> {
  const cat = spawn('sh', ['-c', `exec 3<"${path}"; echo open >&2; exec cat <&3 > "${out}"`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  await new Promise((r) => cat.stderr!.once('data', r))
  return cat
}

const quiet = { onChange: () => {}, report: () => {} }

describe('a SonicBoom output at run time', () => {
  it('a full pipe is tried again within milliseconds, not after 100 ms: 3 MB through a reader that takes 64 KiB every 10 ms', async () => {
    const { readFd, writeFd } = fifo()
    const output = boomOutput(writeFd, false, quiet)
    const total = 48 * 65536
    let got = 0
    const buf = Buffer.alloc(65536)
    const started = Date.now()
    const done = new Promise<void>((resolve) => {
      const reader = setInterval(() => {
        try {
          got += readSync(readFd, buf, 0, 65536, null)
        } catch (err) {
          if ((err as { code?: string }).code !== 'EAGAIN') throw err
        }
        if (got >= total) {
          clearInterval(reader)
          resolve()
        }
      }, 10)
    })
    const piece = `${'x'.repeat(8191)}\n`
    for (let i = 0; i < total / 8192; i++) output.write(piece, 1)
    await done
    const elapsed = Date.now() - started
    await new Promise<void>((resolve) => output.whenWritten(resolve))
    expect(output.written).toBe(total / 8192)
    closeSync(readFd)
    closeSync(writeFd)
    // The pipe is full whenever the reader comes. SonicBoom alone waits 100 ms before it writes
    // again, so that the reader finds the pipe empty nine times out of ten: 4.8 s at the least.
    // Tried again after 1, 2, 5, 10 ms, the reader sets the pace: about 0.5 s.
    expect(elapsed).toBeLessThan(2_500)
  }, 60_000)
})

describe('the exit-time write of a SonicBoom output', () => {
  it('a backlog 60 times the pipe, with a reader that keeps up: all of it, in order, byte for byte', async () => {
    const { path, readFd, writeFd } = fifo()
    const out = join(dir, 'out-all')
    // `cat` reads the FIFO into a file while the write below blocks this thread.
    const cat = await catInto(path, out)
    closeSync(readFd)
    const output = boomOutput(writeFd, false, quiet)
    const all = lines(6000)
    for (let i = 0; i < all.length; i += 50) output.write(all.slice(i, i + 50).join(''), 50)
    expect(output.flushSync(Date.now() + 30_000)).toBe(true)
    expect(output.written).toBe(6000)
    expect(output.idle).toBe(true)
    closeSync(writeFd)
    await new Promise((r) => cat.on('exit', r))
    expect(readFileSync(out, 'utf8')).toBe(all.join(''))
  }, 60_000)

  it('the deadline with the pipe full: false, and the next call goes on from the byte where it stopped', async () => {
    const { path, readFd, writeFd } = fifo()
    const output = boomOutput(writeFd, false, quiet)
    const all = lines(2000)
    for (let i = 0; i < all.length; i += 50) output.write(all.slice(i, i + 50).join(''), 50)
    // Nobody reads: the pipe takes 64 KiB and the rest waits until the deadline.
    const started = Date.now()
    expect(output.flushSync(Date.now() + 300)).toBe(false)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(output.written).toBeLessThan(2000)
    const first = readAvailable(readFd)
    expect(first.length).toBeGreaterThan(0)
    // The pipe's capacity rarely falls on a character boundary of this text.
    const out = join(dir, 'out-rest')
    const cat = await catInto(path, out)
    closeSync(readFd)
    expect(output.flushSync(Date.now() + 30_000)).toBe(true)
    expect(output.written).toBe(2000)
    closeSync(writeFd)
    await new Promise((r) => cat.on('exit', r))
    expect(Buffer.concat([first, readFileSync(out)]).toString('utf8')).toBe(all.join(''))
  }, 60_000)
})
