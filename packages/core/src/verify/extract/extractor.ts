/**
 * Finds audit records in text as it comes back out of a logging stack:
 *
 * - raw NDJSON lines as the logger wrote them (also with a prefix, e.g. Fluentd out_file's
 *   `time<TAB>tag<TAB>{json}`);
 * - Kubernetes CRI log lines `<time> stdout|stderr F|P <text>`, partial (P) lines joined;
 * - Docker json-file / Fluentd / Fluent Bit records with the line as a JSON string under `log`
 *   (Docker's 16 KiB partial lines joined), or under `message` (Filebeat without JSON decoding),
 *   or merged one level down (Fluent Bit Merge_Log_Key);
 * - Elasticsearch: hits (`_source`) one per line (elasticdump, scroll exports) or a whole search
 *   response (`hits.hits`), also pretty-printed over several lines; `_bulk` bodies.
 *
 * No line can hide the lines after it. A JSON document spread over several lines is bounded
 * (documents.ts: MAX_DOCUMENT_BYTES / MAX_DOCUMENT_LINES); when it does not parse (a stray `{`, the cut last line
 * of a killed process), its first line is counted as unreadable and the lines it had taken are
 * read again one by one. Everything unreadable is counted and its line number reported
 * (`onUnreadable`), so that the verifier can tell whether it fell inside a stream.
 */
import type { InputStats } from '../findings'
import { newBalance, scan, tryParse } from './balance'
import { CriJoiner, criFields } from './cri'
import { Documents, type Feed } from './documents'
import { FastReader } from './fast-record'
import { createRecordFinder } from './find-records'

type Obj = Record<string, unknown>

export interface FoundRecord {
  /** The record, top-level dotted keys (`log.level`) expanded. */
  record: Obj
  /** audit.integrity with dotted keys expanded (empty for acceptAll events without one). */
  integrity: Obj
  /** 1-based line where the record (or the document holding it) starts. */
  line: number
  /** Running number of the record in the input (order of appearance). */
  position: number
  /** From an Elasticsearch document (`_source`): its position in the input says nothing about order. */
  indexed: boolean
  /**
   * The canonical text its MAC covers, when read by fastRecord (`record` is then a stand-in holding
   * only what the verifier and the report read).
   */
  macInput?: string
}

export interface Extractor {
  /** Feeds one line (without its newline). */
  push(line: string): void
  /** A line too long to be read (see lines.ts): counted as unreadable. */
  pushTooLong(): void
  /** Flushes what is still pending at the end of the input. */
  end(): void
  /**
   * Nothing pending (no open document, no lines to read again, no CRI or Docker partial line): the
   * next line is read as if it were the first. A worker's reading of a segment (parallel/) is taken
   * only then.
   */
  idle(): boolean
  /**
   * Takes a segment read elsewhere by a fresh extractor that ended idle (parallel/): counts its lines
   * and stats, spends its replays; returns the line and record numbers it starts at. Undefined when it
   * cannot be taken as it is (the replay budget left here is smaller than a fresh one's).
   */
  adopt(segment: AdoptedCounts): { lineBase: number; positionBase: number } | undefined
  /** An unreadable line of an adopted segment (absolute line number), in the order it was met. */
  unreadableAt(line: number): void
  /** Lines read again so far (abandoned documents). */
  readonly replayed: number
  readonly stats: InputStats
}

/** What an adopted segment adds to the counts (unreadable lines come one by one, `unreadableAt`). */
export interface AdoptedCounts {
  lines: number
  records: number
  blank: number
  skipped: number
  unparsable: number
  replayed: number
}

export interface ExtractorOptions {
  /** Also report events without integrity fields (for `pretty`); their `integrity` is an empty object. */
  acceptAll?: boolean
  /** Called with the line number of every line that could not be read, in input order. */
  onUnreadable?: (line: number) => void
  /**
   * Lines as the SDK writes them are read by fastRecord (without JSON.parse): for callers that use
   * a record only through toEntry with factsOf or no picker (the stand-in holds nothing else).
   */
  fast?: boolean
}

const LISTED_LINES = 100

export function createExtractor(
  onRecord: (found: FoundRecord) => void,
  options: ExtractorOptions = {},
): Extractor {
  const stats: InputStats = {
    lines: 0,
    blank: 0,
    skipped: 0,
    unparsable: 0,
    unreadable: 0,
    unreadableLines: [],
  }
  let position = 0
  let lineNo = 0
  const fast = options.fast === true ? new FastReader() : undefined
  const finder = createRecordFinder(
    (record, integrity, line, indexed) =>
      onRecord({ record, integrity, line, position: position++, indexed }),
    options.acceptAll === true,
  )

  /**
   * A line that is not JSON. Plain text (no `{`: a banner, another program's log) cannot hold a
   * record; anything else might have (cut or damaged JSON), so it is unreadable and reported.
   */
  const unparsable = (line: number, mayHoldRecord: boolean) => {
    stats.unparsable++
    if (mayHoldRecord) noteUnreadable(line)
  }
  const noteUnreadable = (line: number) => {
    stats.unreadable++
    if (stats.unreadableLines.length < LISTED_LINES) stats.unreadableLines.push(line)
    options.onUnreadable?.(line)
  }
  const unreadable = (line: number) => unparsable(line, true)

  const found = (value: unknown, line: number) => {
    if (finder.visit(value, line) === 0) stats.skipped++
  }
  const documents = new Documents(found, unreadable)
  const cri = new CriJoiner()

  /** One line of JSON, or of JSON after a prefix; may start a multi-line document. */
  const handleText = (text: string, line: number, mayStartDocument: boolean): void => {
    const t = text.trim()
    if (t === '') {
      stats.blank++
      return
    }
    const c = t[0]
    if (c === '{' || c === '[') {
      if (fast !== undefined) {
        const r = fast.read(t)
        if (r !== undefined) {
          onRecord({
            record: r.record,
            integrity: r.integrity,
            line,
            position: position++,
            indexed: false,
            macInput: r.macInput,
          })
          return
        }
      }
      const parsed = tryParse(t)
      if (parsed !== undefined) {
        found(parsed, line)
        return
      }
      if (mayStartDocument) {
        const balance = newBalance()
        scan(t, balance)
        if (balance.depth > 0) {
          documents.start(text, line, balance)
          return
        }
      }
      unreadable(line)
      return
    }
    // A prefix before the JSON (Fluentd out_file `time\ttag\t{...}`, syslog headers).
    const brace = t.indexOf('{')
    if (brace > 0) {
      const parsed = tryParse(t.slice(brace))
      if (parsed !== undefined) {
        found(parsed, line)
        return
      }
    }
    unparsable(line, brace >= 0)
  }

  const handleLine = (raw: string, line: number, mayStartDocument: boolean): void => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const fields = criFields(text)
    if (!fields) {
      handleText(text, line, mayStartDocument)
      return
    }
    const joined = cri.join(fields, line, unreadable)
    if (joined) handleText(joined.text, joined.line, mayStartDocument)
  }

  const feed: Feed = (raw, line, fresh) => {
    if (documents.open) documents.add(raw)
    else handleLine(raw, line, documents.mayStart(fresh))
  }

  return {
    stats,
    get replayed() {
      return documents.replayed
    },
    idle: () => documents.idle && cri.idle && !finder.hasPartials(),
    adopt(c) {
      // A fresh extractor could start documents on every line it read again; here that holds only
      // while the budget stays above zero.
      if (!documents.spend(c.replayed)) return undefined
      const bases = { lineBase: lineNo, positionBase: position }
      lineNo += c.lines
      position += c.records
      stats.lines += c.lines
      stats.blank += c.blank
      stats.skipped += c.skipped
      stats.unparsable += c.unparsable
      return bases
    },
    unreadableAt: noteUnreadable,
    push(raw: string) {
      lineNo++
      stats.lines++
      feed(raw, lineNo, true)
      documents.drain(feed)
    },
    pushTooLong() {
      // A document cannot span it: what one had taken is read again first.
      documents.close(feed)
      lineNo++
      stats.lines++
      unreadable(lineNo)
    },
    end() {
      documents.close(feed)
      for (const p of cri.rest()) handleText(p.text, p.line, false)
      const pending = finder.pendingPartials()
      for (let i = 0; i < pending; i++) unreadable(lineNo)
    },
  }
}
