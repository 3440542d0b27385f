/**
 * Cuts input into segments of whole lines (about `segmentBytes` each) for the worker threads,
 * without looking at every line: only the last newline of what has come matters. Memory holds one
 * segment and one incomplete line; a line longer than `maxLineBytes` is dropped up to its newline
 * and reported (`tooLong`) in its place, as lines.ts does, so that it can neither exhaust memory nor
 * hide the lines after it. Lines inside a segment are checked against the same limit by whoever
 * reads the segment (lines.ts).
 */

export interface SegmentSink {
  /** Whole lines (the last one may lack its newline at the end of the input); a buffer of its own. */
  segment(bytes: Buffer): void
  tooLong(): void
}

export interface Segmenter {
  push(chunk: Buffer | string): void
  end(): void
}

export function createSegmenter(
  sink: SegmentSink,
  segmentBytes: number,
  maxLineBytes: number,
  /** Memory for a segment of `n` bytes (it must start the buffer). */
  alloc: (n: number) => Buffer = (n) => Buffer.allocUnsafeSlow(n),
): Segmenter {
  let acc = Buffer.allocUnsafeSlow(segmentBytes)
  let used = 0
  /** acc[0, complete) holds whole lines. */
  let complete = 0
  let overlong = false

  const emit = (n: number) => {
    if (n === 0) return
    // set / copyWithin: plain memory copies (Buffer#copy goes through a slower general path).
    const seg = alloc(n)
    seg.set(acc.subarray(0, n))
    acc.copyWithin(0, n, used)
    used -= n
    complete = 0
    sink.segment(seg)
  }

  const append = (part: Buffer) => {
    if (used + part.length > acc.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(used + part.length, acc.length * 2))
      bigger.set(acc.subarray(0, used))
      acc = bigger
    }
    acc.set(part, used)
    used += part.length
  }

  return {
    push(chunk) {
      let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
      while (buf.length > 0) {
        if (overlong) {
          const nl = buf.indexOf(10)
          if (nl === -1) return
          overlong = false
          sink.tooLong()
          buf = buf.subarray(nl + 1)
          continue
        }
        const last = buf.lastIndexOf(10)
        if (last === -1) {
          // No line ends here: the incomplete line grows.
          if (used - complete + buf.length > maxLineBytes) {
            emit(complete)
            used = 0
            overlong = true
            continue
          }
          append(buf)
          return
        }
        // A line that began before this chunk ends in it: it must fit too.
        const first = buf.indexOf(10)
        if (used - complete + first > maxLineBytes) {
          emit(complete)
          used = 0
          overlong = true
          continue
        }
        append(buf.subarray(0, last + 1))
        complete = used
        buf = buf.subarray(last + 1)
        if (complete >= segmentBytes) emit(complete)
      }
    },
    end() {
      if (overlong) {
        overlong = false
        sink.tooLong()
      }
      if (used > 0) {
        complete = used
        emit(used)
      }
    },
  }
}
