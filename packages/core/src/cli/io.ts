import { readFileSync } from 'node:fs'

/** Output sinks, so that tests can call the commands without a child process. */
export interface CliIO {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Reads all of standard input. */
  stdin: () => Promise<string>
  isTTY?: boolean
}

export class UsageError extends Error {}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads the inputs named on the command line (`-` or nothing: standard input). Throws UsageError when unreadable. */
export async function readInputs(files: readonly string[], io: CliIO): Promise<string[]> {
  if (files.length === 0) return [await io.stdin()]
  const out: string[] = []
  for (const f of files) {
    if (f === '-') {
      out.push(await io.stdin())
      continue
    }
    try {
      out.push(readFileSync(f, 'utf8'))
    } catch (err) {
      throw new UsageError(
        `cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      )
    }
  }
  return out
}

/** Lines of several inputs, in order (a file without a final newline does not merge with the next). */
export function* linesOf(texts: readonly string[]): Generator<string> {
  for (const text of texts) {
    const lines = text.split('\n')
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    yield* lines
  }
}
