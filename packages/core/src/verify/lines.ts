/**
 * Splits input into lines without ever holding more than one line (bounded) in memory.
 *
 * Bytes are kept until their newline, so a chunk boundary inside a multi-byte UTF-8 character does
 * no harm. A line longer than `maxLineBytes` is not kept: its bytes are dropped up to the next
 * newline and the line is reported as too long, so one huge (or endless) line can neither exhaust
 * memory nor hide the lines after it.
 */

/** Audit lines are at most 16 KiB; one-line Elasticsearch pages are larger. Beyond this a line is unreadable. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024

export interface LineSink {
  /** One line, newline removed (a trailing CR is left to the reader). */
  line(text: string): void
  /** A line that was longer than the limit; its content is gone. */
  tooLong(): void
}

export interface LineSplitter {
  push(chunk: Buffer | string): void
  /** The last line, when the input does not end with a newline. */
  end(): void
}

export function createLineSplitter(sink: LineSink, maxLineBytes = MAX_LINE_BYTES): LineSplitter {
  let pending: Buffer[] = []
  let pendingBytes = 0
  let overlong = false

  const keep = (part: Buffer) => {
    if (overlong) return
    if (pendingBytes + part.length > maxLineBytes) {
      overlong = true
      pending = []
      pendingBytes = 0
      return
    }
    pending.push(part)
    pendingBytes += part.length
  }

  const finishLine = (last: Buffer) => {
    if (overlong) {
      overlong = false
      sink.tooLong()
      return
    }
    if (pending.length === 0) {
      sink.line(last.toString('utf8'))
      return
    }
    if (pendingBytes + last.length > maxLineBytes) {
      pending = []
      pendingBytes = 0
      sink.tooLong()
      return
    }
    pending.push(last)
    const text = Buffer.concat(pending).toString('utf8')
    pending = []
    pendingBytes = 0
    sink.line(text)
  }

  return {
    push(chunk) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
      let start = 0
      for (;;) {
        const nl = buf.indexOf(10, start)
        if (nl === -1) break
        finishLine(buf.subarray(start, nl))
        start = nl + 1
      }
      // Copied: the caller may reuse its chunk buffer.
      if (start < buf.length) keep(Buffer.from(buf.subarray(start)))
    },
    end() {
      if (pendingBytes > 0 || overlong) finishLine(Buffer.alloc(0))
    },
  }
}

/** Lines of a text already in memory (a final newline does not make an empty last line). */
export function* linesOfText(text: string): Generator<string> {
  let start = 0
  for (;;) {
    const nl = text.indexOf('\n', start)
    if (nl === -1) break
    yield text.slice(start, nl)
    start = nl + 1
  }
  if (start < text.length) yield text.slice(start)
}
