/** Names each record that failed its MAC, once the whole stream has been walked. */
import type { Finding } from './findings'
import { finding } from './findings'

/** A record that failed its MAC (or is a second authentic-looking record for a seq). */
export interface Failure {
  seq: number
  mac: string
  prev?: string
  lines: number[]
  /** Line of the authentic record at the same seq, when the walk met both together. */
  validLine?: number
  /** Its `prev` is the MAC of the authentic record just before it; undefined: not known yet. */
  prevLinks?: boolean
  /** The authentic record after it links to its MAC (so only its content changed). */
  macKept?: boolean
  /** The later key whose MAC it carries (see key-cursor.ts). */
  keySeq?: number
  /** Hash of MAC + input: a later copy of the same bytes is a duplicate, not another finding. */
  digest: string
  /** Chain format 2 (the MAC seals an epoch; links name the record). */
  v2?: boolean
}

export interface ChainFacts {
  stream: string
  /** Is there an authentic record at this seq? */
  validAt(seq: number): boolean
  lastValid?: { seq: number; mac: string }
  closedSeq?: number
}

export function classifyFailure(f: Failure, c: ChainFacts): Finding {
  const s = f.seq
  const extra = { seq: s, lines: f.lines }
  const lastValidSeq = c.lastValid?.seq ?? -1
  if (f.validLine !== undefined || c.validAt(s)) {
    const where =
      f.validLine !== undefined ? `the authentic record on line ${f.validLine}` : 'an authentic record'
    return finding(c.stream, 'inserted', `a forged record claims seq ${s}, which ${where} holds`, extra)
  }
  if (c.closedSeq !== undefined && s > c.closedSeq) {
    return finding(
      c.stream,
      'inserted',
      `a forged record claims seq ${s}, after the stream's closing record (seq ${c.closedSeq})`,
      extra,
    )
  }
  if (f.keySeq !== undefined) {
    return finding(
      c.stream,
      'remacked',
      f.v2
        ? `seq ${s} ends a batch that was modified and re-MACed with the key of epoch ${f.keySeq}: whoever did it held the process's key at epoch ${f.keySeq} or later, and cannot have held this batch's`
        : `seq ${s} was modified and re-MACed with the key of seq ${f.keySeq}: whoever did it held the process's key at seq ${f.keySeq} or later, and cannot have held the key of seq ${s}`,
      { ...extra, keySeq: f.keySeq },
    )
  }
  const prevLinks = f.prevLinks ?? (c.lastValid?.seq === s - 1 && c.lastValid.mac === f.prev)
  if (s > lastValidSeq && !prevLinks) {
    return finding(
      c.stream,
      'inserted',
      `a forged record claims seq ${s}, past the last authentic record (seq ${lastValidSeq})`,
      extra,
    )
  }
  return finding(
    c.stream,
    'modified',
    f.v2
      ? f.mac === ''
        ? `seq ${s} was changed after it was written (the record after it links to another text)`
        : `seq ${s} was changed after it was written (it does not match its epoch's MAC)`
      : f.macKept
        ? `seq ${s} was changed after it was written (its MAC is the one the next record links to; the content is not)`
        : `seq ${s} does not match its MAC: content and MAC were changed`,
    extra,
  )
}
