/**
 * Chain format 2 (integrity/chain.ts): a record is authentic when an authentic epoch MAC reaches it
 * through the links, which is only known once the epoch's last record has come. The gate holds a
 * stream's groups (every copy of one seq) until then, decides each copy's verdict, and hands the
 * groups on in the order they came, for the walker to treat as it treats format 1 records.
 *
 * Per epoch, from its authentic last record (MAC checked with k[epoch]) back to its first seq: the
 * copy whose link is the `prev` of the authentic record after it is authentic; other copies of that
 * seq are not (forgeries). Where no copy links (a record altered or missing), the walk stops: that
 * seq is named (modified, or deleted by the walker's gap), and the records of the epoch before it are
 * `unproven`: the MAC reaches them only through it. Records that no authentic MAC seals (the batch's
 * last record altered or missing, the tail cut inside a batch) are unproven too.
 *
 * The epoch's place is bound by its MAC (its number and first seq are in the MAC input): epochs tile
 * the seqs, so the epoch after the one ending at seq p must start at p + 1 with the next number; a
 * batch re-sealed with a later key (someone who took the process) does not pass for an earlier one.
 *
 * A seq missing inside an epoch may still come (shipping reorders; the router hands such records over
 * at the end of input): the epoch, and everything after it, waits here until then, up to MAX_PENDING
 * groups. Memory: the waiting groups (normally the open epoch: at most 1,000 records are written per
 * epoch), and the links of the authentic records of the last LINKS_KEPT seqs, to recognise copies that
 * arrive late.
 */
import { macOf, nextKey } from '../integrity/chain'
import { RecentMap } from '../recent-map'
import type { Entry } from './entry'
import { type Finding, finding, seqRange } from './findings'
import { SeqRing } from './seq-ring'

/** Groups held at most (a missing seq holds its epoch and what follows until the end of input). */
const MAX_PENDING = 65_536
const LINKS_KEPT = 65_536
const EXPECTED_KEPT = 1024

export interface Group {
  s: number
  entries: Entry[]
}

type Reason = 'altered' | 'missing' | 'unsealed'

/** Seqs after+1 .. before-1 lie between two authentic ends (epochs afterEpoch and beforeEpoch). */
interface Hole {
  after: number
  afterEpoch: number
  before: number
  beforeEpoch: number
}

const MAX_HOLES = 4096
/** Later epochs whose keys are tried on an epoch end that fails its own. */
const REMAC_LOOKAHEAD = 64

/** An authentic epoch end, waiting for its epoch to be decided. */
interface End {
  group: Group
  entry: Entry
  from: number
}

export class EpochGate {
  /** k[nextEpoch]; undefined for an unkeyed chain. */
  private key: Buffer | undefined
  private nextEpoch = 0
  /** Seq of the last authentic epoch end. */
  private lastEnd = -1
  /** Groups not yet handed on, in seq order, and by seq. */
  private pending: Group[] = []
  private readonly bySeq = new Map<number, Group>()
  /** Authentic ends among them, in seq order. */
  private ends: End[] = []
  /** Links of authentic records (recent ones), and links expected at seqs that were missing. */
  private readonly links = new SeqRing<string>(LINKS_KEPT)
  private readonly expected = new RecentMap<number, string>(EXPECTED_KEPT)
  private open: { from: number; to: number; reason: Reason; at?: number } | undefined
  /**
   * Seqs between two authentic ends that no end of the walk covered (whole epochs missing): their
   * epochs may still come late, checked with keys derived from k[0] (kept for that until the end).
   */
  private holes: Hole[] = []
  private k0: Buffer | undefined
  /** Late groups inside a hole, waiting for their epoch's end. */
  private readonly lateHeld = new Map<number, Group>()
  /** Key derivations left for failing ends tried against later keys. */
  private remacBudget = 200_000
  /** Key derivations left for late ends (each costs its epoch number in hashes). */
  private keyBudget = 50_000_000

  constructor(
    k0: Buffer | undefined,
    private readonly stream: string,
    private readonly report: (f: Finding) => void,
    /** Late groups decided here (inside a hole), for the walker's late path. */
    private readonly onLate: (g: Group) => void,
  ) {
    this.key = k0 ? Buffer.from(k0) : undefined
    this.k0 = k0 ? Buffer.from(k0) : undefined
  }

  /** Every copy of seq s (ascending s); returns the groups now decided, in order. */
  add(s: number, entries: Entry[]): Group[] {
    const g = { s, entries }
    this.pending.push(g)
    this.bySeq.set(s, g)
    if (entries.some((e) => e.mac !== '')) this.checkEnd(g)
    const out: Group[] = []
    this.decide(false, out)
    while (this.pending.length > MAX_PENDING) {
      // Too much waits behind a missing seq: decide the oldest epoch without it.
      const before = this.pending.length
      this.decide(true, out, 1)
      if (this.pending.length === before) this.release(this.takeFirst(), 'unsealed', out)
    }
    return out
  }

  /** End of the stream: every epoch is decided with what came; what no end seals is unproven. */
  flush(): Group[] {
    const out: Group[] = []
    this.decide(true, out)
    while (this.pending.length > 0) this.release(this.takeFirst(), 'unsealed', out)
    this.closeRange()
    this.releaseLateHeld(Number.POSITIVE_INFINITY)
    this.key?.fill(0)
    this.key = undefined
    this.k0?.fill(0)
    this.k0 = undefined
    return out
  }

  /**
   * Copies of seq s that came after the walk passed it. Returns false when they joined the groups
   * still waiting here (they are decided with their epoch); otherwise sets their verdicts.
   */
  late(s: number, entries: Entry[]): boolean {
    // Walked in order with the rest, but they came late: the walker flags them as reordered.
    for (const e of entries) e.arrivedLate = true
    const waiting = this.bySeq.get(s)
    if (waiting) {
      waiting.entries.push(...entries)
      return false
    }
    if (this.pending.length > 0 && s > this.pending[0]!.s) {
      // A seq missing inside what waits here: it takes its place, its epoch is decided at the end.
      const g = { s, entries: [...entries] }
      let i = this.pending.length
      while (i > 0 && this.pending[i - 1]!.s > s) i--
      this.pending.splice(i, 0, g)
      this.bySeq.set(s, g)
      this.lateEnd(g)
      return false
    }
    const hole = this.holes.find((h) => h.after < s && s < h.before)
    if (hole) {
      this.holdLate(hole, s, entries)
      return false
    }
    const link = this.expected.get(s) ?? this.links.get(s)
    for (const e of entries) {
      if (link === undefined) e.verdict = 'unproven'
      else e.verdict = e.v2?.link === link
    }
    if (link !== undefined && this.expected.has(s) && entries.some((e) => e.verdict === true)) {
      this.expected.delete(s)
      this.keepLink(s, link)
    }
    const unproven = entries.filter((e) => e.verdict === 'unproven')
    if (unproven.length > 0) {
      this.report(
        finding(
          this.stream,
          'unproven',
          `seq ${s} came late and cannot be authenticated: the links that sealed it are no longer held`,
          { seq: s, lines: unproven.map((e) => e.line) },
        ),
      )
    }
    return true
  }

  /** A group with a MAC: is one of its copies an authentic epoch end? Then the key moves on. */
  private checkEnd(g: Group): void {
    let authentic: Entry | undefined
    for (const e of g.entries) {
      if (e.mac === '' || e.verdict !== undefined) continue
      if (!authentic && this.sealedHere(e, g.s)) authentic = e
      else {
        // A MAC that does not match: the record was changed, or forged (then it rarely links).
        e.verdict = false
        e.prevLinks = this.linksBack(g.s, e.prev)
        e.remacEpoch = this.laterKeyOf(e)
      }
    }
    if (!authentic) return
    const { epoch, from } = authentic.v2 as { epoch: number; from: number }
    if (from > this.lastEnd + 1 && this.holes.length < MAX_HOLES) {
      this.holes.push({
        after: this.lastEnd,
        afterEpoch: this.nextEpoch - 1,
        before: from,
        beforeEpoch: epoch,
      })
    }
    this.ends.push({ group: g, entry: authentic, from })
    this.commit(epoch, g.s)
  }

  /** A late group among those waiting here that ends an epoch missing from the walk (inside a hole). */
  private lateEnd(g: Group): void {
    const hole = this.holes.find((h) => h.after < g.s && g.s < h.before)
    if (!hole) return
    let authentic: Entry | undefined
    for (const e of g.entries) {
      if (e.mac === '' || e.verdict !== undefined) continue
      if (!authentic && this.sealedInHole(e, g.s, hole)) authentic = e
      else {
        e.verdict = false
        e.prevLinks = this.linksBack(g.s, e.prev)
      }
    }
    if (!authentic) return
    const { epoch, from } = authentic.v2 as { epoch: number; from: number }
    let i = this.ends.length
    while (i > 0 && this.ends[i - 1]!.group.s > g.s) i--
    this.ends.splice(i, 0, { group: g, entry: authentic, from })
    this.splitHole(hole, from, g.s, epoch)
  }

  /** What is left of a hole once an epoch from..to inside it is found. */
  private splitHole(hole: Hole, from: number, to: number, epoch: number): void {
    const parts: Hole[] = []
    if (from > hole.after + 1) parts.push({ ...hole, before: from, beforeEpoch: epoch })
    if (to + 1 < hole.before) parts.push({ ...hole, after: to, afterEpoch: epoch })
    this.holes.splice(this.holes.indexOf(hole), 1, ...parts)
  }

  /** A late group inside a hole: held until an end there seals it; one that does decides its epoch. */
  private holdLate(hole: Hole, s: number, entries: Entry[]): void {
    const held = this.lateHeld.get(s)
    if (held) held.entries.push(...entries)
    else this.lateHeld.set(s, { s, entries: [...entries] })
    const g = this.lateHeld.get(s)!
    let authentic: Entry | undefined
    for (const e of entries) {
      if (e.mac === '' || e.verdict !== undefined) continue
      if (!authentic && this.sealedInHole(e, s, hole)) authentic = e
      else {
        e.verdict = false
        e.prevLinks = this.lateHeld.get(s - 1)?.entries.some((x) => x.v2?.link === e.prev) === true
      }
    }
    if (!authentic) return
    const { epoch, from } = authentic.v2 as { epoch: number; from: number }
    // Late groups come in ascending seq: those before this epoch in the hole will not be sealed now.
    this.releaseLateHeld(from)
    const decided: Group[] = [g]
    let expected = authentic.prev
    this.settle(g, authentic)
    let stop: { at: number; reason: Reason } | undefined
    for (let t = s - 1; t >= from; t--) {
      const before = this.lateHeld.get(t)
      const match = before?.entries.find((e) => e.v2?.link === expected && e.verdict === undefined)
      if (!before || !match) {
        stop = { at: t, reason: before ? 'altered' : 'missing' }
        for (const e of before?.entries ?? []) {
          if (e.verdict !== undefined) continue
          e.verdict = false
          e.prevLinks = true
          e.macKept = true
        }
        if (before) decided.push(before)
        break
      }
      this.settle(before, match)
      decided.push(before)
      expected = match.prev
    }
    const seqs = [...this.lateHeld.keys()].filter((t) => t <= s).sort((a, b) => a - b)
    const inEpoch = new Set(decided)
    for (const t of seqs) {
      const h = this.lateHeld.get(t)!
      this.lateHeld.delete(t)
      if (inEpoch.has(h)) {
        this.closeRange()
        this.onLate(h)
      } else this.release(h, stop?.reason ?? 'unsealed', undefined, stop?.at)
    }
    this.closeRange()
    this.splitHole(hole, from, s, epoch)
  }

  /** Late groups held in holes below seq `below`: nothing will seal them any more. */
  private releaseLateHeld(below: number): void {
    const seqs = [...this.lateHeld.keys()].filter((t) => t < below).sort((a, b) => a - b)
    for (const t of seqs) {
      const g = this.lateHeld.get(t)!
      this.lateHeld.delete(t)
      this.release(g, 'unsealed', undefined)
    }
    this.closeRange()
  }

  /** An end inside a hole: its place left for it there, its MAC made with k[epoch] (from k[0]). */
  private sealedInHole(e: Entry, s: number, hole: Hole): boolean {
    const { epoch, from } = e.v2 ?? {}
    if (epoch === undefined || from === undefined || from > s || from <= hole.after || s >= hole.before)
      return false
    if (epoch <= hole.afterEpoch || epoch >= hole.beforeEpoch) return false
    if (
      from === hole.after + 1
        ? epoch !== hole.afterEpoch + 1
        : epoch - hole.afterEpoch - 1 > from - hole.after - 1
    )
      return false
    if (hole.before - s - 1 < hole.beforeEpoch - epoch - 1) return false
    if (this.k0 === undefined) return macOf(undefined, e.input) === e.mac
    if (epoch > this.keyBudget) return false
    this.keyBudget -= epoch
    let key: Buffer = Buffer.from(this.k0)
    for (let k = 0; k < epoch; k++) {
      const next = nextKey(key)
      key.fill(0)
      key = next
    }
    const ok = macOf(key, e.input) === e.mac
    key.fill(0)
    return ok
  }

  /**
   * Decides the epochs whose ends have come, oldest first: back from each end along the links. An
   * epoch with a missing seq waits (the seq may come late) unless `final`; so does all after it.
   */
  private decide(final: boolean, out: Group[], limit = Number.POSITIVE_INFINITY): void {
    let done = 0
    while (this.ends.length > 0 && done < limit) {
      const { group: end, entry: authentic, from } = this.ends[0]!
      // Records before this epoch that no end sealed: their end may still come late (it would take
      // its place in the holes), so they wait, and so does all after them.
      if (!final && this.pending[0]!.s < from) return
      // Back from the end along the links.
      const decided: Group[] = [end]
      let expected = authentic.prev
      let stop: { at: number; reason: Reason } | undefined
      for (let t = end.s - 1; t >= from; t--) {
        const g = this.bySeq.get(t)
        if (!g) {
          if (!final) return
          stop = { at: t, reason: 'missing' }
          break
        }
        const match = g.entries.find((e) => e.v2?.link === expected && e.verdict === undefined)
        if (!match) {
          stop = { at: t, reason: 'altered' }
          decided.push(g)
          break
        }
        decided.push(g)
        expected = match.prev
      }
      // Decided: verdicts along the walk, then every group up to the end handed on in order.
      expected = authentic.prev
      this.settle(end, authentic)
      for (let k = 1; k < decided.length; k++) {
        const g = decided[k]!
        const match = g.entries.find((e) => e.v2?.link === expected && e.verdict === undefined)
        if (match) {
          this.settle(g, match)
          expected = match.prev
          continue
        }
        for (const e of g.entries) {
          if (e.verdict !== undefined) continue
          e.verdict = false
          e.prevLinks = true
          e.macKept = true
        }
      }
      if (stop && expected !== undefined) this.expectAt(stop.at, expected)
      const inEpoch = new Set(decided)
      while (this.pending.length > 0 && this.pending[0]!.s <= end.s) {
        const g = this.takeFirst()
        if (inEpoch.has(g)) {
          this.closeRange()
          out.push(g)
        } else if (stop && g.s >= from) this.release(g, stop.reason, out, stop.at)
        else this.release(g, 'unsealed', out)
      }
      this.closeRange()
      this.ends.shift()
      done++
    }
  }

  private takeFirst(): Group {
    const g = this.pending.shift()!
    this.bySeq.delete(g.s)
    return g
  }

  /** Does this copy's MAC seal an epoch ending at seq s, in the place the epochs before leave for it? */
  private sealedHere(e: Entry, s: number): boolean {
    const { epoch, from } = e.v2 ?? {}
    if (epoch === undefined || from === undefined || from > s || from <= this.lastEnd) return false
    if (epoch < this.nextEpoch) return false
    // Epochs tile the seqs and hold a record at least: after seq p the next one starts at p + 1; an
    // epoch starting later leaves room for at most one epoch per seq between.
    if (
      from === this.lastEnd + 1 ? epoch !== this.nextEpoch : epoch - this.nextEpoch > from - this.lastEnd - 1
    )
      return false
    let key = this.key
    const steps = epoch - this.nextEpoch
    let derived: Buffer | undefined
    for (let k = 0; k < steps && key; k++) {
      const next = nextKey(key)
      derived?.fill(0)
      derived = next
      key = next
    }
    const ok = macOf(key, e.input) === e.mac
    derived?.fill(0)
    return ok
  }

  /** Does `prev` name a record present at seq s - 1 (waiting here, or authentic and remembered)? */
  private linksBack(s: number, prev: string | undefined): boolean {
    if (prev === undefined) return false
    const before = this.bySeq.get(s - 1)
    if (before) return before.entries.some((e) => e.v2?.link === prev)
    return this.links.get(s - 1) === prev
  }

  /**
   * A failing end whose MAC a LATER key of the stream makes (its own claim kept): whoever wrote it held
   * that key, i.e. took the process after the epoch was sealed. Tries the next REMAC_LOOKAHEAD keys.
   */
  private laterKeyOf(e: Entry): number | undefined {
    const epoch = e.v2?.epoch
    if (!this.key || epoch === undefined || epoch !== this.nextEpoch || this.remacBudget <= 0)
      return undefined
    let key: Buffer = Buffer.from(this.key)
    let found: number | undefined
    for (let k = 1; k <= REMAC_LOOKAHEAD && found === undefined; k++) {
      const next = nextKey(key)
      key.fill(0)
      key = next
      if (macOf(key, e.input) === e.mac) found = epoch + k
    }
    key.fill(0)
    this.remacBudget -= REMAC_LOOKAHEAD
    return found
  }

  /** The key moves on to the epoch after `epoch`, every earlier key erased. */
  private commit(epoch: number, endSeq: number): void {
    while (this.key && this.nextEpoch <= epoch) {
      const next = nextKey(this.key)
      this.key.fill(0)
      this.key = next
      this.nextEpoch++
    }
    this.nextEpoch = epoch + 1
    this.lastEnd = endSeq
  }

  private settle(g: Group, authentic: Entry): void {
    authentic.verdict = true
    for (const e of g.entries) {
      // Another copy of the same record (a duplicate) is as authentic; anything else is not.
      if (e.verdict === undefined) e.verdict = e.v2?.link === authentic.v2?.link && e.mac === authentic.mac
    }
    this.keepLink(g.s, authentic.v2!.link)
  }

  private keepLink(s: number, link: string): void {
    this.links.set(s, link)
  }

  private expectAt(s: number, link: string): void {
    this.expected.set(s, link)
  }

  /** A group no authentic MAC reaches: its undecided copies are unproven, said once per run of seqs. */
  private release(g: Group, reason: Reason, out: Group[] | undefined, at?: number): void {
    for (const e of g.entries) if (e.verdict === undefined) e.verdict = 'unproven'
    if (g.entries.some((e) => e.verdict === 'unproven')) {
      const r = this.open
      if (r && r.reason === reason && r.at === at && r.to === g.s - 1) r.to = g.s
      else {
        this.closeRange()
        this.open = { from: g.s, to: g.s, reason, at }
      }
    }
    if (out) out.push(g)
    else this.onLate(g)
  }

  private closeRange(): void {
    const r = this.open
    if (!r) return
    this.open = undefined
    const what = seqRange(r.from, r.to)
    const message =
      r.reason === 'unsealed'
        ? `${what} cannot be authenticated: no authentic MAC seals them (the last record of their batch is missing or altered, or the stream was cut inside a batch)`
        : `${what} cannot be authenticated: their batch's MAC reaches them only through seq ${r.at}, which is ${r.reason}`
    this.report(finding(this.stream, 'unproven', message, { from: r.from, to: r.to }))
  }
}
