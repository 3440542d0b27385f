/**
 * Records that appear in the input out of the order they were written, judged as the walk meets
 * them in seq order: a record whose position in the input falls before its predecessor's is out of
 * place, and when it fits after the record before that, it is the predecessor that moved (a record
 * moved later, not all those that followed it). Constant memory, and the same count as the fewest
 * records to move for the swaps, moves and reversals a logging stack produces.
 */

const LIST_LIMIT = 20

interface Placed {
  seq: number
  position: number
  line: number
}

export class OrderTracker {
  private kept: Placed | undefined
  private pending: Placed | undefined
  count = 0
  readonly seqs: number[] = []
  readonly lines: number[] = []

  /** The next authentic record in seq order. */
  see(seq: number, position: number, line: number): void {
    const e = { seq, position, line }
    const p = this.pending
    if (!p || e.position > p.position) {
      if (p) this.kept = p
      this.pending = e
      return
    }
    if (!this.kept || e.position > this.kept.position) {
      this.flag(p)
      this.pending = e
    } else this.flag(e)
  }

  /** A record that turned up far from its place (after the walk had passed it). */
  flag(e: { seq: number; line: number }): void {
    this.count++
    if (this.seqs.length < LIST_LIMIT) {
      this.seqs.push(e.seq)
      this.lines.push(e.line)
    }
  }

  describe(): string {
    const list = [...this.seqs].sort((a, b) => a - b)
    return `${this.count} record(s) appear out of the order they were written: seq ${list.join(', ')}${this.count > list.length ? ', ...' : ''}`
  }
}
