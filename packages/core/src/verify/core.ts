/**
 * What the one-thread and the threaded verifier share: the extractor that turns lines into records
 * and entries, the router and walkers that check them in seq order, and the report at the end.
 */
import type { KeyObject } from 'node:crypto'
import { loadVerifierPrivateKey } from '../integrity/keys'
import { type Entry, toEntry } from './entry'
import { createExtractor, type Extractor } from './extract/extractor'
import type { VerifyOptions, VerifyReport } from './findings'
import { checkLineage, checkTail, exitCodeOf, setStatus, summarise } from './finish'
import type { WhoFilter } from './report/match'
import { Router } from './router'
import { LateStore } from './spill'
import { type StreamOutcome, streamReport } from './stream-report'
import { UnreadableTracker } from './unreadable'
import { StreamWalker, type WalkEnv } from './walker'

/** Keys tried past the last record on records that failed their MAC (see key-cursor.ts). */
const REMAC_LOOKAHEAD = 64

/** What a caller (the evidence report) adds to the walk. */
export interface VerifyHooks {
  /** Picks what to keep of a record (dotted keys expanded; `time`: its `@timestamp`, parsed) for `onAuthentic`. */
  pick?: (top: Record<string, unknown>, time: number) => unknown
  /**
   * For worker threads picking the report's facts (`pick` is factsOf): the report's filters. A
   * record no filter matches then comes with its time only, which is all the tally reads of it.
   */
  pickFilter?: WhoFilter
  /** Every authentic record once, duplicates removed (unchecked streams: every first copy). */
  onAuthentic?: (e: Entry) => void
}

/** What both the one-thread and the threaded verifier are made of: extractor in, report out. */
export interface VerifierCore {
  extractor: Extractor
  /** An entry read elsewhere (a worker thread), with its absolute line and position. */
  entry(e: Entry): void
  /** End of input: the report (removes the late store's files). */
  finish(): VerifyReport
  /** Gives up (removes the late store's files). */
  dispose(): void
}

export function createCore(
  options: VerifyOptions,
  hooks: VerifyHooks,
  onKey?: WalkEnv['onKey'],
): VerifierCore {
  const privateKeys = loadKeys(options.privateKey)
  const expectKeyed = options.expectKeyed ?? privateKeys.length > 0
  let until = parseUntil(options.until)
  const late = new LateStore(options.tempDir, options.spillBudgetBytes)
  const router = new Router(
    late,
    (id) => new StreamWalker(id, { privateKeys, expectKeyed, onAuthentic: hooks.onAuthentic, onKey }),
  )
  const unreadable = new UnreadableTracker()
  let records = 0
  let maxTime = Number.NEGATIVE_INFINITY
  const entry = (e: Entry) => {
    records++
    if (e.time > maxTime) maxTime = e.time
    unreadable.record(e.stream, e.line)
    router.add(e)
  }
  const extractor = createExtractor((found) => entry(toEntry(found, hooks.pick)), {
    onUnreadable: (line) => unreadable.unreadable(line),
  })
  return {
    extractor,
    entry,
    finish() {
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
    dispose: () => late.dispose(),
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
