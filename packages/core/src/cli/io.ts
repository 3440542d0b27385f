import { closeSync, createReadStream, openSync } from 'node:fs'
import { createExtractor, type FoundRecord } from '../verify/extract/extractor'
import { createLineSplitter } from '../verify/lines'

/** Output sinks, so that tests can call the commands without a child process. */
export interface CliIO {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Standard input, chunk by chunk. */
  stdin: () => AsyncIterable<Buffer | string>
  isTTY?: boolean
}

export class UsageError extends Error {}

/** Read size: large reads cost fewer trips through the event loop (verify reads gigabytes). */
const READ_BYTES = 1024 * 1024

export function readStdin(): AsyncIterable<Buffer | string> {
  return process.stdin
}

/**
 * The inputs named on the command line (`-` or nothing: standard input), chunk by chunk, never
 * whole in memory. Every file is opened first, so that a missing one fails before any work
 * (UsageError, exit 2). A file without a final newline does not merge with the next.
 */
export async function* inputChunks(files: readonly string[], io: CliIO): AsyncGenerator<Buffer | string> {
  const names = files.length === 0 ? ['-'] : files
  const fds = names.map((f) => (f === '-' ? -1 : openInput(f)))
  try {
    for (let i = 0; i < names.length; i++) {
      const source =
        fds[i] === -1
          ? io.stdin()
          : createReadStream('', { fd: fds[i]!, autoClose: false, highWaterMark: READ_BYTES })
      let last: Buffer | string | undefined
      try {
        for await (const chunk of source) {
          last = chunk as Buffer | string
          yield last
        }
      } catch (err) {
        throw new UsageError(
          `cannot read ${names[i]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        )
      }
      if (last !== undefined && !endsWithNewline(last)) yield '\n'
    }
  } finally {
    for (const fd of fds) if (fd >= 0) closeSync(fd)
  }
}

function openInput(file: string): number {
  try {
    return openSync(file, 'r')
  } catch (err) {
    throw new UsageError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
}

function endsWithNewline(chunk: Buffer | string): boolean {
  if (chunk.length === 0) return true
  return typeof chunk === 'string' ? chunk.endsWith('\n') : chunk[chunk.length - 1] === 10
}

/**
 * Every record found in the inputs (files or standard input), in order, whatever shape the export has
 * (NDJSON, CRI, Fluentd / Fluent Bit, Elasticsearch pages): for the commands that read records without
 * verifying them (pretty, monitor-replay).
 */
export async function readRecords(
  files: readonly string[],
  io: CliIO,
  onRecord: (found: FoundRecord) => void,
): Promise<void> {
  const extractor = createExtractor(onRecord, { acceptAll: true })
  const splitter = createLineSplitter({
    line: (t) => extractor.push(t),
    tooLong: () => extractor.pushTooLong(),
  })
  for await (const chunk of inputChunks(files, io)) splitter.push(chunk)
  splitter.end()
  extractor.end()
}
