/**
 * The verifier: replays every stream found in the input and names what does not add up.
 *
 * One pass over the input: lines -> records (extract/) -> entries (entry.ts) -> per-stream walks in
 * seq order (router.ts, walker.ts) -> reports (stream-report.ts, finish.ts). Memory holds per-stream
 * state, not records; records far out of order are spilled to a temporary directory (spill.ts).
 * Used by `boundary-audit verify` and `report`, the tests and the demo.
 */
import { createCore, type VerifyHooks } from './core'
import type { VerifyOptions, VerifyReport } from './findings'
import { createLineSplitter, linesOfText } from './lines'
import { createThreadedVerifier } from './parallel/threaded'

export type { VerifyHooks } from './core'

export interface Verifier {
  /** One line of input, newline removed. */
  push(line: string): void
  /** A chunk of raw input (any size; lines may span chunks). */
  write(chunk: Buffer | string): void
  /** End of input: the report. */
  end(): VerifyReport
}

export function createVerifier(options: VerifyOptions = {}, hooks: VerifyHooks = {}): Verifier {
  const core = createCore(options, hooks)
  const splitter = createLineSplitter({
    line: (t) => core.extractor.push(t),
    tooLong: () => core.extractor.pushTooLong(),
  })
  return {
    push: (line) => core.extractor.push(line),
    write: (chunk) => splitter.push(chunk),
    end() {
      splitter.end()
      return core.finish()
    },
  }
}

/** Verifies lines of text (one log line each, newline removed). */
export function verifyLines(lines: Iterable<string>, options: VerifyOptions = {}): VerifyReport {
  const v = createVerifier(options)
  for (const line of lines) v.push(line)
  return v.end()
}

/** Verifies a whole text (NDJSON, CRI log, Elasticsearch export, ...). */
export function verifyText(text: string, options: VerifyOptions = {}): VerifyReport {
  return verifyLines(linesOfText(text), options)
}

/** Verifies what a readable stream (a file, standard input, an HTTP response body) delivers. */
export async function verifyStream(
  source: AsyncIterable<Buffer | string>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const v = createThreadedVerifier(options)
  try {
    for await (const chunk of source) await v.write(chunk)
  } catch (err) {
    await v.abort()
    throw err
  }
  return v.end()
}
