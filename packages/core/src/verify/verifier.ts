/**
 * The verifier: replays every stream found in the input and names what does not add up.
 *
 * One pass over the input: lines -> records (extract/) -> entries (entry.ts) -> per-stream walks in
 * seq order (router.ts, walker.ts) -> reports (stream-report.ts, finish.ts). Memory holds per-stream
 * state, not records; records far out of order are spilled to a temporary directory (spill.ts).
 * Used by `boundary-audit verify` and `report`, the tests and the demo.
 */
import type { KeyObject } from 'node:crypto'
import { loadVerifierPrivateKey } from '../integrity/keys'
import { type Entry, toEntry } from './entry'
import { createExtractor } from './extract/extractor'
import type { VerifyOptions, VerifyReport } from './findings'
import { checkLineage, checkTail, exitCodeOf, setStatus, summarise } from './finish'
import { createLineSplitter, linesOfText } from './lines'
import { Router } from './router'
import { LateStore } from './spill'
import { type StreamOutcome, streamReport } from './stream-report'
import { UnreadableTracker } from './unreadable'
import { StreamWalker } from './walker'

/** Keys tried past the last record on records that failed their MAC (see key-cursor.ts). */
const REMAC_LOOKAHEAD = 64

/** What a caller (the evidence report) adds to the walk. */
export interface VerifyHooks {
  /** Picks what to keep of a record (dotted keys expanded) for `onAuthentic`. */
  pick?: (top: Record<string, unknown>) => unknown
  /** Every authentic record once, duplicates removed (unchecked streams: every first copy). */
  onAuthentic?: (e: Entry) => void
}

export interface Verifier {
  /** One line of input, newline removed. */
  push(line: string): void
  /** A chunk of raw input (any size; lines may span chunks). */
  write(chunk: Buffer | string): void
  /** End of input: the report. */
  end(): VerifyReport
}

export function createVerifier(options: VerifyOptions = {}, hooks: VerifyHooks = {}): Verifier {
  const privateKeys = loadKeys(options.privateKey)
  const expectKeyed = options.expectKeyed ?? privateKeys.length > 0
  let until = parseUntil(options.until)
  const late = new LateStore(options.tempDir, options.spillBudgetBytes)
  const router = new Router(
    late,
    (id) => new StreamWalker(id, { privateKeys, expectKeyed, onAuthentic: hooks.onAuthentic }),
  )
  const unreadable = new UnreadableTracker()
  let records = 0
  let maxTime = Number.NEGATIVE_INFINITY
  const extractor = createExtractor(
    (found) => {
      const entry = toEntry(found, hooks.pick)
      records++
      if (entry.time > maxTime) maxTime = entry.time
      unreadable.record(entry.stream, entry.line)
      router.add(entry)
    },
    { onUnreadable: (line) => unreadable.unreadable(line) },
  )
  const splitter = createLineSplitter({
    line: (t) => extractor.push(t),
    tooLong: () => extractor.pushTooLong(),
  })

  return {
    push: (line) => extractor.push(line),
    write: (chunk) => splitter.push(chunk),
    end() {
      splitter.end()
      extractor.end()
      if (until === undefined && Number.isFinite(maxTime)) until = maxTime
      let walkers: StreamWalker[]
      try {
        walkers = router.finish()
      } finally {
        late.dispose()
      }
      return buildReport(walkers, until, options.ignoreOrder === true, unreadable, {
        ...extractor.stats,
        records,
        duplicates: 0,
      })
    },
  }
}

function buildReport(
  walkers: StreamWalker[],
  until: number | undefined,
  ignoreOrder: boolean,
  unreadable: UnreadableTracker,
  input: VerifyReport['input'],
): VerifyReport {
  const outcomes = new Map<string, StreamOutcome>()
  for (const w of walkers) {
    w.close(REMAC_LOOKAHEAD)
    const o = streamReport(w, ignoreOrder)
    o.report.findings.push(...unreadable.findingsOf(w.id))
    outcomes.set(w.id, o)
  }
  checkLineage(outcomes)
  const streams = [...outcomes.values()].map((o) => {
    checkTail(o, until)
    setStatus(o.report)
    return o.report
  })
  streams.sort((a, b) => (a.start ?? '').localeCompare(b.start ?? '') || a.stream.localeCompare(b.stream))
  const exitCode = exitCodeOf(streams)
  input.duplicates = streams.reduce((n, r) => n + r.duplicates, 0)
  const report: VerifyReport = {
    ok: exitCode === 0,
    exitCode,
    summary: '',
    input,
    until: until !== undefined && Number.isFinite(until) ? new Date(until).toISOString() : undefined,
    streams,
    findings: streams.flatMap((r) => r.findings),
  }
  report.summary = summarise(report)
  return report
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
  const v = createVerifier(options)
  for await (const chunk of source) v.write(chunk)
  return v.end()
}

function loadKeys(source: VerifyOptions['privateKey']): KeyObject[] {
  if (source === undefined) return []
  const list = Array.isArray(source) ? source : [source as string | KeyObject]
  return list.map((k) => loadVerifierPrivateKey(k))
}

function parseUntil(until: VerifyOptions['until']): number | undefined {
  if (until === undefined) return undefined
  const t = until instanceof Date ? until.getTime() : typeof until === 'number' ? until : Date.parse(until)
  if (!Number.isFinite(t)) throw new TypeError(`boundary-audit: until must be a date; got ${String(until)}`)
  return t
}
