/**
 * JSON documents spread over several lines (a pretty-printed search response), for the extractor.
 *
 * A line that opens JSON without closing it starts a document; the following lines are added until
 * its brackets balance (then it is parsed) or it exceeds MAX_DOCUMENT_BYTES / MAX_DOCUMENT_LINES. A
 * document that does not parse (a stray `{`, the cut last line of a killed process) is abandoned: its
 * first line is unreadable and its other lines are read again one by one (`drain`), so no line can
 * hide the lines after it. A document may start inside lines read again, up to a total of
 * REPLAY_LINES lines read again, which bounds the work whatever the input; beyond, each line is read
 * on its own.
 */
import { type Balance, scan, tryParse } from './balance'

export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
export const MAX_DOCUMENT_LINES = 1_000_000
const REPLAY_LINES = 4 * MAX_DOCUMENT_LINES

interface Document {
  lines: string[]
  first: number
  bytes: number
  balance: Balance
}

/** Reads one line (again): `fresh` is false for lines read again. */
export type Feed = (raw: string, line: number, fresh: boolean) => void

export class Documents {
  private doc: Document | undefined
  /** Lines of abandoned documents, read again (last pushed first). */
  private readonly replays: Array<{ lines: string[]; first: number; next: number }> = []
  private budget = REPLAY_LINES

  constructor(
    /** A document that parsed, with the line it starts on. */
    private readonly found: (value: unknown, line: number) => void,
    private readonly unreadable: (line: number) => void,
  ) {}

  /** A document is open: the next line belongs to it. */
  get open(): boolean {
    return this.doc !== undefined
  }

  get idle(): boolean {
    return this.doc === undefined && this.replays.length === 0
  }

  /** Lines read again so far. */
  get replayed(): number {
    return REPLAY_LINES - this.budget
  }

  /** Whether a line may start a document (always a fresh one; one read again while the budget lasts). */
  mayStart(fresh: boolean): boolean {
    return fresh || this.budget > 0
  }

  /**
   * Spends `replayed` lines of the budget for a segment read elsewhere by a fresh reader; false when
   * this reader would not have read it the same way (its budget is too small).
   */
  spend(replayed: number): boolean {
    if (replayed >= this.budget) return false
    this.budget -= replayed
    return true
  }

  start(text: string, line: number, balance: Balance): void {
    this.doc = { lines: [text], first: line, bytes: text.length, balance }
  }

  /** A line of the open document. */
  add(raw: string): void {
    const d = this.doc!
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    d.lines.push(text)
    d.bytes += text.length + 1
    scan(text, d.balance)
    if (d.balance.depth > 0 && d.bytes <= MAX_DOCUMENT_BYTES && d.lines.length <= MAX_DOCUMENT_LINES) return
    this.doc = undefined
    const parsed = d.balance.depth <= 0 ? tryParse(d.lines.join('\n')) : undefined
    if (parsed !== undefined) this.found(parsed, d.first)
    else this.abandon(d)
  }

  /** Reads again the lines of abandoned documents. */
  drain(feed: Feed): void {
    const replays = this.replays
    while (replays.length > 0) {
      const top = replays[replays.length - 1]!
      if (top.next >= top.lines.length) {
        replays.pop()
        continue
      }
      const i = top.next++
      const text = top.lines[i]!
      top.lines[i] = ''
      this.budget--
      feed(text, top.first + i, false)
    }
  }

  /** Whatever is open is abandoned (and its lines read again) until nothing is. */
  close(feed: Feed): void {
    this.drain(feed)
    while (this.doc) {
      const d = this.doc
      this.doc = undefined
      this.abandon(d)
      this.drain(feed)
    }
  }

  /** The document did not parse: its first line is unreadable, the others are read again. */
  private abandon(d: Document): void {
    this.unreadable(d.first)
    if (d.lines.length > 1) this.replays.push({ lines: d.lines, first: d.first, next: 1 })
  }
}
