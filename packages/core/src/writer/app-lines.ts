/**
 * Where the lines of the app's own logger (audit.destination(), app-destination.ts) go, by the
 * logger's phase:
 *
 * - running: into the writer, in order with the records (one writer on the destination);
 * - closing (the closing record is queued, the writer finishing, maybe on the sealing thread, which
 *   takes nothing new once told to end): held, up to maxBufferBytes, and written right after the
 *   writer has finished;
 * - ended (the writer has written all it will and released the destination), or with no line output
 *   at all (OpenTelemetry only): straight to the destination, synchronously, whole.
 *
 * Lines that cannot be written are counted (stats().appLinesDropped).
 */
import { appendFileSync, writeSync } from 'node:fs'
import type { Destination } from '../types'
import type { AppLineSink } from './app-destination'
import type { Writer } from './writer'

export interface AppLines extends AppLineSink {
  /** The writer has finished: write what was held, and every later line straight to the destination. */
  finish(): void
}

export function createAppLines(writer: Writer, dest: Destination | false, maxBufferBytes: number): AppLines {
  const direct = directLineWriter(dest)
  let ended = false
  let held: string[] = []
  let heldChars = 0
  const writeDirect = (line: string) => {
    if (!direct(line)) writer.lostText()
  }
  return {
    line(line) {
      if (ended || dest === false) writeDirect(line)
      else if (!writer.closed) writer.text(line)
      else if (heldChars + line.length > maxBufferBytes) writer.lostText()
      else {
        held.push(line)
        heldChars += line.length
      }
    },
    flush: () => (ended ? Promise.resolve() : writer.flush()),
    finish() {
      if (ended) return
      ended = true
      const lines = held
      held = []
      heldChars = 0
      for (const line of lines) writeDirect(line)
    },
  }
}

/** Writes one line straight to the destination, synchronously. True: written. */
function directLineWriter(dest: Destination | false): (line: string) => boolean {
  return (line) => {
    const text = `${line}\n`
    try {
      if (dest === false || dest === 'stdout') writeAllSync(1, text)
      else if (dest === 'stderr') writeAllSync(2, text)
      else if (typeof dest === 'number') writeAllSync(dest, text)
      else if (typeof dest === 'string') appendFileSync(dest, text)
      else dest.write(text)
      return true
    } catch {
      return false
    }
  }
}

/** write(2) until all of `text` is written; a full non-blocking pipe (EAGAIN) is retried for up to 1 s. */
function writeAllSync(fd: number, text: string): void {
  let buf = Buffer.from(text, 'utf8')
  const giveUpAt = Date.now() + 1000
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf))
    } catch (err) {
      if ((err as { code?: string }).code !== 'EAGAIN' || Date.now() > giveUpAt) throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
    }
  }
}
