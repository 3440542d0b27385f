/**
 * Unreadable lines that fall between two records of one stream: they may have held its records,
 * so the stream cannot be called intact. Constant memory: a running count, and the line numbers of
 * the most recent unreadable lines to name them.
 */
import { type Finding, finding } from './findings'

const RECENT = 4096
const LISTED = 10
/** Findings per stream; further ones are added up into the last. */
const FINDINGS_PER_STREAM = 20

interface Mark {
  line: number
  unreadableSoFar: number
}

export class UnreadableTracker {
  private total = 0
  private recent: number[] = []
  private readonly last = new Map<string, Mark>()
  private readonly found = new Map<string, Finding[]>()

  /** An unreadable line (line numbers arrive in ascending order). */
  unreadable(line: number): void {
    this.total++
    this.recent.push(line)
    if (this.recent.length > 2 * RECENT) this.recent = this.recent.slice(-RECENT)
  }

  /** A record of `stream` on `line`. */
  record(stream: string, line: number): void {
    const mark = this.last.get(stream)
    if (mark && this.total > mark.unreadableSoFar) {
      this.report(stream, mark.line, line, this.total - mark.unreadableSoFar)
    }
    if (mark) {
      mark.line = line
      mark.unreadableSoFar = this.total
    } else this.last.set(stream, { line, unreadableSoFar: this.total })
  }

  findingsOf(stream: string): Finding[] {
    return this.found.get(stream) ?? []
  }

  private report(stream: string, from: number, to: number, count: number): void {
    let list = this.found.get(stream)
    if (!list) {
      list = []
      this.found.set(stream, list)
    }
    if (list.length >= FINDINGS_PER_STREAM) {
      const last = list[list.length - 1]!
      last.count = (last.count ?? 0) + count
      last.message = `${last.count} unreadable line(s) among this stream's records, the last between lines ${from} and ${to}: they may have held its records`
      return
    }
    const lines = this.recent.filter((l) => l > from && l < to).slice(0, LISTED)
    list.push(
      finding(
        stream,
        'unreadable',
        `${count} unreadable line(s) between this stream's records on lines ${from} and ${to}: they may have held its records`,
        { count, lines },
      ),
    )
  }
}
