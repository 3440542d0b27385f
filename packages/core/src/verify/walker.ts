/**
 * One stream's verification as a walk over its seqs in ascending order, holding per-stream state
 * only (the current key, the last authentic record, ranges, a bounded list of failures), never the
 * records. Records arrive in groups (every copy of one seq) from the router; copies that arrive
 * after the walk has passed their seq go through `late()` at the end, with a second key cursor.
 */
import { createHash, type KeyObject } from 'node:crypto'
import type { Failure } from './classify'
import type { Entry } from './entry'
import { EpochGate } from './epochs'
import { allowanceSeconds, type Finding, finding, iso } from './findings'
import { openGenesis, type StreamStart } from './genesis'
import { KeyCursor } from './key-cursor'
import { OrderTracker } from './order'
import { appendSeq, inRanges, type Range } from './ranges'

/** Failures remembered in full per stream; beyond, only counted (each still makes the stream fail). */
const MAX_FAILURES = 10_000
/** Checkpoint MACs remembered for the successor's lineage check (it names the last one). */
const MARKS_KEPT = 64
/** Lines listed per record (its duplicates'). */
const LINES_KEPT = 10

export interface WalkEnv {
  privateKeys: readonly KeyObject[]
  expectKeyed: boolean
  /** An authentic record, once (the report counts it). */
  onAuthentic?: (e: Entry) => void
  /** The stream's chain can be checked from k[0] (undefined: unkeyed, SHA-256): worker threads may check MACs. */
  onKey?: (stream: string, k0: Buffer | undefined) => void
}

export interface AuthenticRecord {
  seq: number
  mac: string
  /** Format 2: the record's link (what the next record's prev is). */
  link?: string
  time: number
  line: number
  mark?: string
}

interface Copy {
  entry: Entry
  lines: number[]
}

export class StreamWalker {
  start: StreamStart | undefined
  private live: KeyCursor | undefined
  private lateCursor: KeyCursor | undefined
  /** Every seq below this has been walked. */
  nextSeq = 0
  private lastPresent = -1
  records = 0
  duplicates = 0
  firstSeq: number | undefined
  maxPresent = -1
  service: string | undefined
  instance: string | undefined
  interval: number | undefined
  intact: Range[] = []
  gaps: Range[] = []
  /** Seqs whose authentic record arrived late (after the walk passed them). */
  fills: Range[] = []
  lastValid: AuthenticRecord | undefined
  closedSeq: number | undefined
  minTime = Number.POSITIVE_INFINITY
  maxTime = Number.NEGATIVE_INFINITY
  readonly marks = new Map<number, string>()
  failures: Failure[] = []
  lateFailures: Failure[] = []
  failuresNotKept = 0
  /** Findings met during the walk, in walk order (structure-only checks, losses). */
  readonly walkFindings: Finding[] = []
  readonly lossFindings: Finding[] = []
  /** Checkpoint pairs further apart than the interval: [a.seq, a.time, b.seq, b.time]. */
  readonly silences: Array<[number, number, number, number]> = []
  readonly order = new OrderTracker()
  anyIndexed = false
  private lastMark: AuthenticRecord | undefined
  private droppedSum = 0
  private pendingMacKept: Failure[] = []
  /** Format 2: decides records once their epoch's MAC is checked (epochs.ts). */
  private gate: EpochGate | undefined

  constructor(
    readonly id: string,
    private readonly env: WalkEnv,
  ) {}

  get started(): boolean {
    return this.start !== undefined
  }

  /** Checks MACs (false: structure only, no key). */
  get canCheck(): boolean {
    return this.start?.canCheck === true
  }

  /** Every copy of seq `s` (>= nextSeq), in input order. */
  group(s: number, entries: Entry[]): void {
    if (!this.start) this.begin(s === 0 ? entries : [], entries[0])
    this.nextSeq = s + 1
    if (!this.gate) this.walk(s, entries)
    else for (const g of this.gate.add(s, entries)) this.walk(g.s, g.entries)
  }

  private walk(s: number, entries: Entry[]): void {
    if (!this.gate) this.live!.advanceTo(s)
    this.notePresent(s, entries)
    const copies = this.dedupe(this.withoutUnproven(entries))
    if (copies.length === 0) return
    if (this.canCheck) this.checkCopies(s, copies, this.live!, false)
    else this.acceptUnchecked(s, copies)
  }

  /** Copies no authentic MAC reaches are counted, neither accepted nor failed (the gate reported them). */
  private withoutUnproven(entries: Entry[]): Entry[] {
    if (!this.gate) return entries
    const rest = entries.filter((e) => e.verdict !== 'unproven')
    this.records += entries.length - rest.length
    return rest
  }

  /** Copies of seq `s` that arrived after the walk passed it (ascending s, input order within). */
  late(s: number, entries: Entry[]): void {
    if (!this.start) throw new Error('late records before the walk started')
    if (this.gate && !this.gate.late(s, entries)) return
    this.lateWalk(s, entries)
  }

  private lateWalk(s: number, entries: Entry[]): void {
    for (const e of entries) this.noteEntry(e)
    const copies = this.dedupe(this.withoutUnproven(entries))
    if (copies.length === 0) return
    if (!this.canCheck) {
      // Without a key nothing tells a copy from a forgery: a seq the walk found missing is filled,
      // the rest counted as copies (the stream is reported unverified or incomplete anyway).
      for (const c of copies) {
        if (!this.walkedPresent(s) && !inRanges(this.fills, s)) {
          appendSeq(this.fills, s)
          this.records++
          this.noteAuthentic(c.entry)
        } else this.duplicates++
      }
      return
    }
    this.lateCursor ??= new KeyCursor(this.gate ? undefined : this.start!.k0)
    if (!this.gate) this.lateCursor.advanceTo(s)
    this.checkCopies(s, copies, this.lateCursor, true)
  }

  /** The walk is over: try later keys on the remaining failures, forget every key. */
  close(lookahead: number): void {
    if (this.gate) for (const g of this.gate.flush()) this.walk(g.s, g.entries)
    this.live?.finish(this.maxPresent, lookahead)
    this.lateCursor?.finish(this.maxPresent, lookahead)
    this.start?.k0?.fill(0)
  }

  /** Authentic record at seq s (walk or late)? */
  validAt(s: number): boolean {
    return inRanges(this.intact, s) || inRanges(this.fills, s)
  }

  private begin(genesis: Entry[], first: Entry | undefined): void {
    this.start = openGenesis(this.id, genesis, first, this.env.privateKeys, this.env.expectKeyed)
    this.interval = this.start.interval
    this.live = new KeyCursor(this.start.k0)
    // Worker threads check format 1 MACs with k[0]; format 2 is decided here, by epoch.
    if (this.start.canCheck && !first?.v2) this.env.onKey?.(this.id, this.start.k0)
    if (first?.v2 && this.start.canCheck) {
      this.gate = new EpochGate(
        this.start.k0,
        this.id,
        (f) => this.walkFindings.push(f),
        (g) => this.lateWalk(g.s, g.entries),
      )
    }
  }

  private noteEntry(e: Entry): void {
    if (this.service === undefined && e.service !== undefined) {
      this.service = e.service
      this.instance = e.instance
    }
    if (this.interval === undefined && e.interval !== undefined) this.interval = e.interval
    if (e.indexed) this.anyIndexed = true
  }

  private notePresent(s: number, entries: Entry[]): void {
    for (const e of entries) this.noteEntry(e)
    if (s > this.lastPresent + 1) {
      this.gaps.push([this.lastPresent + 1, s - 1])
    }
    this.lastPresent = s
    this.firstSeq ??= s
    if (s > this.maxPresent) this.maxPresent = s
  }

  /** Was seq s present during the walk (before late records)? */
  private walkedPresent(s: number): boolean {
    return s >= (this.firstSeq ?? 0) && s <= this.lastPresent && !inRanges(this.gaps, s)
  }

  /** The same record delivered twice (at-least-once shipping) is one record. */
  private dedupe(entries: Entry[]): Copy[] {
    const copies: Copy[] = []
    for (const e of entries) {
      const same = copies.find((c) => c.entry.mac === e.mac && c.entry.input === e.input)
      if (same) {
        if (same.lines.length < LINES_KEPT) same.lines.push(e.line)
        this.duplicates++
      } else copies.push({ entry: e, lines: [e.line] })
    }
    return copies
  }

  private checkCopies(s: number, copies: Copy[], cursor: KeyCursor, late: boolean): void {
    const valid = copies.map((c) =>
      c.entry.verdict === undefined
        ? (c.entry.macValid ?? cursor.macOf(c.entry.input) === c.entry.mac)
        : c.entry.verdict === true,
    )
    const authentic = valid.indexOf(true)
    let validLine: number | undefined
    if (authentic >= 0) {
      const a = copies[authentic]!
      validLine = a.entry.line
      if (late && this.validAt(s)) this.duplicates++
      else {
        this.records++
        if (late) this.acceptLate(a.entry)
        else this.accept(a.entry)
      }
    }
    const failing: Failure[] = []
    for (let i = 0; i < copies.length; i++) {
      if (i === authentic) continue
      const c = copies[i]!
      const digest = digestOf(c.entry)
      if (late && this.isKnownFailure(s, digest)) {
        this.duplicates++
        continue
      }
      this.records++
      const f: Failure = {
        seq: s,
        mac: c.entry.mac,
        prev: c.entry.prev,
        lines: c.lines,
        validLine,
        digest,
        macKept: c.entry.macKept,
      }
      if (c.entry.v2) f.v2 = true
      if (c.entry.remacEpoch !== undefined) f.keySeq = c.entry.remacEpoch
      if (!late)
        f.prevLinks =
          c.entry.prevLinks ?? (this.lastValid?.seq === s - 1 && this.lastValid.mac === c.entry.prev)
      if (!valid[i] && c.entry.verdict === undefined) cursor.addCandidate(remacView(f, c.entry))
      failing.push(f)
    }
    this.keepFailures(failing, late)
    if (!late) this.linkPending(s, failing, authentic >= 0 ? copies[authentic]!.entry : undefined)
  }

  /** Failures of seq s-1 learn whether the authentic record at s links to their MAC. */
  private linkPending(s: number, failing: Failure[], authentic: Entry | undefined): void {
    for (const f of this.pendingMacKept) {
      if (f.macKept === undefined && authentic && f.seq === s - 1) f.macKept = authentic.prev === f.mac
    }
    this.pendingMacKept = failing
  }

  private keepFailures(failing: Failure[], late: boolean): void {
    const list = late ? this.lateFailures : this.failures
    for (const f of failing) {
      if (this.failures.length + this.lateFailures.length < MAX_FAILURES) list.push(f)
      else this.failuresNotKept++
    }
  }

  private isKnownFailure(s: number, digest: string): boolean {
    for (const list of [this.failures, this.lateFailures]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const f = list[i]!
        if (f.seq === s && f.digest === digest) return true
      }
    }
    return false
  }

  /** No key: every first copy counts as present; several different copies are a conflict. */
  private acceptUnchecked(s: number, copies: Copy[]): void {
    this.records += copies.length
    const first = copies[0]!.entry
    if (copies.length > 1) {
      this.walkFindings.push(
        finding(
          this.id,
          'inserted',
          `${copies.length} different records claim seq ${s}; without the key it is not known which is authentic`,
          { seq: s, lines: copies.flatMap((c) => c.lines) },
        ),
      )
    }
    // The MACs already cover the links; without checking them, a broken link is what shows.
    const before = this.lastValid
    if (before && before.seq === s - 1 && first.prev !== (before.link ?? before.mac)) {
      this.walkFindings.push(
        finding(
          this.id,
          'broken-link',
          `seq ${s} does not link to the record before it (prev differs from the MAC of seq ${s - 1})`,
          { seq: s, lines: copies[0]!.lines },
        ),
      )
    }
    this.noteAuthentic(first)
  }

  private accept(e: Entry): void {
    appendSeq(this.intact, e.seq)
    if (!e.indexed) {
      if (e.arrivedLate) this.order.flag(e)
      else this.order.see(e.seq, e.position, e.line)
    }
    this.noteAuthentic(e)
  }

  private acceptLate(e: Entry): void {
    appendSeq(this.fills, e.seq)
    if (!e.indexed) this.order.flag(e)
    this.noteAuthentic(e)
  }

  private noteAuthentic(e: Entry): void {
    if (!this.lastValid || e.seq > this.lastValid.seq) {
      this.lastValid = { seq: e.seq, mac: e.mac, link: e.v2?.link, time: e.time, line: e.line, mark: e.mark }
    }
    if (e.mark === 'end' && (this.closedSeq === undefined || e.seq < this.closedSeq)) this.closedSeq = e.seq
    if (Number.isFinite(e.time)) {
      if (e.time < this.minTime) this.minTime = e.time
      if (e.time > this.maxTime) this.maxTime = e.time
    }
    if (e.mark !== undefined) this.noteMark(e)
    if (e.loss) this.noteLoss(e)
    this.env.onAuthentic?.(e)
  }

  private noteMark(e: Entry): void {
    this.marks.set(e.seq, e.mac)
    if (this.marks.size > MARKS_KEPT) this.marks.delete(this.marks.keys().next().value!)
    const a = this.lastMark
    const interval = this.interval
    if (a && e.seq > a.seq && interval !== undefined && interval > 0) {
      if (e.time - a.time > allowanceSeconds(interval) * 1000)
        this.silences.push([a.seq, a.time, e.seq, e.time])
    }
    if (!a || e.seq > a.seq) this.lastMark = { seq: e.seq, mac: e.mac, time: e.time, line: e.line }
  }

  /** Loss records and loss totals (CONTRACTS.md §1). */
  private noteLoss(e: Entry): void {
    const loss = e.loss!
    if (loss.dropped !== undefined && loss.dropped > 0) {
      this.lossFindings.push(
        finding(
          this.id,
          'dropped',
          `${loss.dropped} events dropped before seq ${e.seq} (${loss.reason ?? 'no reason given'})`,
          { seq: e.seq, count: loss.dropped, reason: loss.reason, lines: [e.line] },
        ),
      )
      this.droppedSum += loss.dropped
    }
    if (loss.total !== undefined && loss.total > this.droppedSum) {
      const missing = loss.total - this.droppedSum
      this.lossFindings.push(
        finding(this.id, 'dropped', `${missing} events dropped before seq ${e.seq} (unrecorded losses)`, {
          seq: e.seq,
          count: missing,
          reason: 'unrecorded',
          lines: [e.line],
        }),
      )
      this.droppedSum = loss.total
    }
  }

  /** Silences between checkpoints with records missing inside them (judged at the end: late records may fill them). */
  silenceFindings(missingBetween: (a: number, b: number) => boolean): Finding[] {
    const interval = this.interval ?? 0
    return this.silences
      .filter(([a, , b]) => missingBetween(a, b))
      .map(([a, at, b, bt]) =>
        finding(
          this.id,
          'checkpoint-missing',
          `no checkpoint between seq ${a} (${iso(at)}) and seq ${b} (${iso(bt)}), ${Math.round((bt - at) / 1000)} s apart with a ${interval} s interval, and records are missing there`,
          { from: a, to: b },
        ),
      )
  }
}

function digestOf(e: Entry): string {
  return createHash('sha256').update(e.mac).update('\n').update(e.input).digest('base64url')
}

/** The failure's record, kept (input included) only while later keys are tried on it. */
function remacView(f: Failure, e: Entry) {
  const view = {
    seq: f.seq,
    input: e.input,
    mac: e.mac,
    set keySeq(k: number | undefined) {
      f.keySeq = k
    },
    get keySeq() {
      return f.keySeq
    },
  }
  return view
}
