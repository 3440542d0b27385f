/**
 * The verifier: replays every stream found in the input and names what does not add up.
 *
 * Per stream: dedupe at-least-once duplicates, order by seq, recover k[0] from the genesis with the
 * verifier's private key, walk the key chain and check every MAC, then look at what is missing
 * (seq gaps, a tail without checkpoint or close), what is extra (forged records), and the order the
 * records came in. Used by `boundary-audit verify`, the tests and the demo.
 */
import type { KeyObject } from 'node:crypto'
import { createPublicKey } from 'node:crypto'
import { expandKeys, macInputOf } from './canonical'
import { macOf, nextKey } from './chain'
import { createExtractor, type FoundRecord, type InputStats } from './input'
import { keyId, loadVerifierPrivateKey, type SealedKey, unsealKey } from './keys'

type Obj = Record<string, unknown>

export type FindingKind =
  /** A record's content (or MAC) no longer matches what was sealed. */
  | 'modified'
  /** A modified record carries a MAC made with a LATER key of its stream: someone held that key (took the process). */
  | 'remacked'
  /** A record that is not part of the chain: duplicate seq with other content, or past the end. */
  | 'inserted'
  /** Seqs missing from the chain. */
  | 'deleted'
  /** Records appear in the input in another order than they were written. */
  | 'reordered'
  /** No checkpoint or closing record within the checkpoint interval after the last record. */
  | 'truncated-tail'
  /** The stream has no closing record and the same instance started a new stream (crash, or tail deleted). */
  | 'never-closed'
  /** Two checkpoints further apart than the interval, with records missing between them. */
  | 'checkpoint-missing'
  /** The genesis record (seq 0) is missing: the stream cannot be authenticated. */
  | 'genesis-missing'
  /** The sealed first key does not open with the verifier key it names: the genesis was altered. */
  | 'genesis-invalid'
  /** A record's `prev` does not match the MAC of the record before it (only meaningful without MAC checks). */
  | 'broken-link'
  /** The successor stream recorded another MAC for this stream's last checkpoint than the one present. */
  | 'lineage-mismatch'
  /** The stream is unkeyed (no verifier key configured) while a verifier key was expected. */
  | 'unauthenticated'
  /** The stream is sealed to a verifier key that was not given: MACs not checked. */
  | 'key-unavailable'
  /** The writer recorded events it accepted and could not write (a loss record, or a loss total). */
  | 'dropped'

export type Severity = 'tamper' | 'gap' | 'order' | 'unverifiable'

const SEVERITY: Record<FindingKind, Severity> = {
  modified: 'tamper',
  remacked: 'tamper',
  inserted: 'tamper',
  'genesis-invalid': 'tamper',
  'broken-link': 'tamper',
  'lineage-mismatch': 'tamper',
  deleted: 'gap',
  'truncated-tail': 'gap',
  'never-closed': 'gap',
  'checkpoint-missing': 'gap',
  'genesis-missing': 'gap',
  dropped: 'gap',
  unauthenticated: 'gap',
  reordered: 'order',
  'key-unavailable': 'unverifiable',
}

export interface Finding {
  kind: FindingKind
  severity: Severity
  stream: string
  /** The record concerned, or the first/last seq of a range. */
  seq?: number
  from?: number
  to?: number
  /** Input lines (1-based) of the records concerned, when there are any. */
  lines?: number[]
  /** For `remacked`: the seq whose key made the MAC. */
  keySeq?: number
  /** For `dropped`: how many events, and why (the loss record's reason). */
  count?: number
  reason?: string
  message: string
}

export type StreamStatus = 'intact' | 'open' | 'unauthenticated' | 'unverified' | 'tampered' | 'gaps'

export interface StreamReport {
  stream: string
  service?: string
  instance?: string
  /** true: HMAC chain sealed to a verifier key; false: unkeyed SHA-256 chain; undefined: unknown (no genesis). */
  keyed: boolean | undefined
  /** MACs were checked with the stream's real key. */
  authenticated: boolean
  status: StreamStatus
  /** Distinct records (duplicates not counted). */
  records: number
  duplicates: number
  firstSeq?: number
  lastSeq?: number
  /** Maximal runs of consecutive seqs whose MAC (or hash) checked out. */
  intact: Array<[number, number]>
  start?: string
  end?: string
  closed: boolean
  interval?: number
  previous?: { stream: string; seq: number; closed: boolean; present: boolean }
  findings: Finding[]
}

export interface VerifyReport {
  /** No tampering, no gaps, and everything that could be checked was checked. */
  ok: boolean
  /** 0 intact, 1 tampering or gaps, 2 nothing verifiable / key missing. */
  exitCode: 0 | 1 | 2
  summary: string
  input: InputStats & { records: number; duplicates: number }
  /** End of the window the input covers (truncation is judged against it). */
  until?: string
  streams: StreamReport[]
  findings: Finding[]
}

export interface VerifyOptions {
  /** Verifier private key(s): PEM text, a path, or a KeyObject. Several when keys were rotated. */
  privateKey?: string | KeyObject | ReadonlyArray<string | KeyObject>
  /** End of the window the input covers. Default: the latest @timestamp in the input. */
  until?: string | number | Date
  /** Do not report records that appear out of seq order. */
  ignoreOrder?: boolean
  /** Report unkeyed streams as a gap. Default: true when a private key is given. */
  expectKeyed?: boolean
}

interface Entry {
  seq: number
  mac: string
  prev?: string
  mark?: string
  interval?: number
  input: string
  time: number
  line: number
  lines: number[]
  position: number
  indexed: boolean
  integrity: Obj
  /** audit.loss of the record, if any (loss records, checkpoints, the closing record). */
  loss?: { dropped?: number; total?: number; reason?: string }
  /** service.name / service.node.name of the record, if any. */
  service?: string
  instance?: string
  valid?: boolean
  keySeq?: number
}

/** Remac search: failing records checked against later keys, and how far. */
const MAX_REMAC_CANDIDATES = 64
const REMAC_LOOKAHEAD = 64
const LIST_LIMIT = 20

/** Seconds of slack on top of the checkpoint interval before a silence counts. */
export function allowanceSeconds(interval: number): number {
  return interval * 1.25 + 5
}

/** Verifies lines of text (one log line each, newline removed). */
export function verifyLines(lines: Iterable<string>, options: VerifyOptions = {}): VerifyReport {
  const privateKeys = loadKeys(options.privateKey)
  const streams = new Map<string, FoundRecord[]>()
  const extractor = createExtractor((found) => {
    const id = found.integrity.stream as string
    let list = streams.get(id)
    if (!list) {
      list = []
      streams.set(id, list)
    }
    list.push(found)
  })
  for (const line of lines) extractor.push(line)
  extractor.end()

  const expectKeyed = options.expectKeyed ?? privateKeys.length > 0
  let until = parseUntil(options.until)
  let maxTime = Number.NEGATIVE_INFINITY
  const prepared = new Map<string, Entry[]>()
  let records = 0
  for (const [id, found] of streams) {
    const entries = found.map(toEntry)
    for (const e of entries) if (e.time > maxTime) maxTime = e.time
    records += entries.length
    prepared.set(id, entries)
  }
  if (until === undefined && Number.isFinite(maxTime)) until = maxTime

  const reports: StreamReport[] = []
  const contexts = new Map<string, StreamContext>()
  for (const [id, entries] of prepared) {
    const ctx = checkStream(id, entries, privateKeys, expectKeyed, options.ignoreOrder === true)
    contexts.set(id, ctx)
  }
  // Lineage: successors name their predecessor and the last checkpoint it reached.
  for (const ctx of contexts.values()) {
    const prev = ctx.report.previous
    if (!prev) continue
    const pred = contexts.get(prev.stream)
    if (!pred) continue
    prev.present = true
    pred.successor = ctx.report.stream
    checkLineage(ctx, pred)
  }
  for (const ctx of contexts.values()) {
    finishTail(ctx, until)
    finishStatus(ctx.report)
    reports.push(ctx.report)
  }
  reports.sort((a, b) => (a.start ?? '').localeCompare(b.start ?? '') || a.stream.localeCompare(b.stream))

  const findings = reports.flatMap((r) => r.findings)
  const severities = new Set(findings.map((f) => f.severity))
  const exitCode: 0 | 1 | 2 =
    severities.has('tamper') || severities.has('gap') || severities.has('order')
      ? 1
      : severities.has('unverifiable') || reports.length === 0
        ? 2
        : 0
  const duplicates = reports.reduce((n, r) => n + r.duplicates, 0)
  const report: VerifyReport = {
    ok: exitCode === 0,
    exitCode,
    summary: '',
    input: { ...extractor.stats, records, duplicates },
    until: until !== undefined && Number.isFinite(until) ? new Date(until).toISOString() : undefined,
    streams: reports,
    findings,
  }
  report.summary = summarise(report)
  return report
}

/** Verifies a whole text (NDJSON, CRI log, Elasticsearch export, ...). */
export function verifyText(text: string, options: VerifyOptions = {}): VerifyReport {
  return verifyLines(text.split('\n'), options)
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

function toEntry(found: FoundRecord): Entry {
  const i = found.integrity
  const fields = i.fields as string[]
  const top = expandKeys(found.record)
  const ts = top['@timestamp']
  return {
    seq: i.seq as number,
    mac: i.mac as string,
    prev: typeof i.prev === 'string' ? i.prev : undefined,
    mark: typeof i.mark === 'string' ? i.mark : undefined,
    interval: typeof i.interval === 'number' ? i.interval : undefined,
    input: flat(macInputOf(found.record, fields)),
    time: typeof ts === 'string' ? Date.parse(ts) : Number.NaN,
    line: found.line,
    lines: [found.line],
    position: found.position,
    indexed: found.indexed,
    integrity: i,
    loss: lossOf(top),
    ...serviceOf(top),
  }
}

/** audit.loss (writer/loss.ts), when the record carries one. */
function lossOf(top: Obj): Entry['loss'] {
  const audit = top.audit
  if (!audit || typeof audit !== 'object' || Array.isArray(audit)) return undefined
  const loss = expandKeys(audit as Obj).loss
  if (!loss || typeof loss !== 'object' || Array.isArray(loss)) return undefined
  const l = expandKeys(loss as Obj)
  const num = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined)
  return {
    dropped: num(l.dropped),
    total: num(l.total),
    reason: typeof l.reason === 'string' ? l.reason : undefined,
  }
}

/**
 * The MAC input is built by concatenation (a rope of many small strings); reading a character makes
 * V8 flatten it into one compact string, which matters when a whole export is held in memory.
 */
function flat(s: string): string {
  s.charCodeAt(0)
  return s
}

/** Who wrote the record (service.name, service.node.name); the parsed record itself is not kept. */
function serviceOf(top: Obj): { service?: string; instance?: string } {
  const service = top.service
  if (!service || typeof service !== 'object' || Array.isArray(service)) return {}
  const s = expandKeys(service as Obj)
  const node = s.node && typeof s.node === 'object' ? expandKeys(s.node as Obj) : undefined
  return {
    service: typeof s.name === 'string' ? s.name : undefined,
    instance: node && typeof node.name === 'string' ? node.name : undefined,
  }
}

interface StreamContext {
  report: StreamReport
  /** Valid entries by seq. */
  valid: Map<number, Entry>
  lastValid?: Entry
  successor?: string
  unverified: boolean
}

function finding(stream: string, kind: FindingKind, message: string, extra: Partial<Finding> = {}): Finding {
  return { kind, severity: SEVERITY[kind], stream, ...extra, message }
}

function seqRange(from: number, to: number): string {
  return from === to ? `seq ${from}` : `seq ${from}-${to} (${to - from + 1} records)`
}

function checkStream(
  id: string,
  all: Entry[],
  privateKeys: KeyObject[],
  expectKeyed: boolean,
  ignoreOrder: boolean,
): StreamContext {
  const report: StreamReport = {
    stream: id,
    keyed: undefined,
    authenticated: false,
    status: 'intact',
    records: 0,
    duplicates: 0,
    intact: [],
    closed: false,
    findings: [],
  }
  const ctx: StreamContext = { report, valid: new Map(), unverified: false }
  const add = (kind: FindingKind, message: string, extra?: Partial<Finding>) =>
    report.findings.push(finding(id, kind, message, extra))

  // Dedupe: the same record delivered twice is one record.
  const bySeq = new Map<number, Entry[]>()
  for (const e of all) {
    let variants = bySeq.get(e.seq)
    if (!variants) {
      variants = []
      bySeq.set(e.seq, variants)
    }
    const same = variants.find((v) => v.mac === e.mac && v.input === e.input)
    if (same) {
      same.lines.push(e.line)
      report.duplicates++
      continue
    }
    variants.push(e)
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b)
  report.records = all.length - report.duplicates

  // Who the stream belongs to, from any record (service.name, service.node.name).
  const named = all.find((e) => e.service !== undefined)
  if (named) {
    report.service = named.service
    if (named.instance !== undefined) report.instance = named.instance
  }

  // Key material from the genesis.
  const genesisVariants = bySeq.get(0) ?? []
  let k0: Buffer | undefined
  let keyed: boolean | undefined
  let genesis: Entry | undefined
  let k0Fallback: Buffer | undefined
  const unavailable: string[] = []
  for (const g of genesisVariants) {
    const alg = g.integrity.alg
    if (alg === 'sha256') {
      keyed ??= false
      if (macOf(undefined, g.input) === g.mac) {
        keyed = false
        genesis = g
        break
      }
      continue
    }
    if (alg !== 'hmac-sha256') continue
    keyed = true
    const sealed = g.integrity.key as SealedKey | undefined
    if (!sealed || typeof sealed !== 'object') continue
    const key = privateKeys.find((k) => keyId(createPublicKey(k)) === sealed.kid)
    if (!key) {
      unavailable.push(String(sealed.kid))
      continue
    }
    let candidate: Buffer
    try {
      candidate = unsealKey(sealed, key, id)
    } catch {
      add(
        'genesis-invalid',
        `the sealed first key in the genesis (line ${g.line}) does not open with verifier key ${sealed.kid}: the genesis was altered`,
        { seq: 0, lines: g.lines },
      )
      continue
    }
    if (macOf(candidate, g.input) === g.mac) {
      k0 = candidate
      genesis = g
      break
    }
    // The key opens but the genesis content was changed: keep the key, the walk names the genesis.
    k0Fallback ??= candidate
  }
  if (k0 === undefined && k0Fallback !== undefined) k0 = k0Fallback
  else k0Fallback?.fill(0)
  if (keyed === undefined && genesisVariants.length === 0) {
    // No genesis: an unkeyed chain still shows itself by its hashes.
    const sample = bySeq.get(seqs[0]!)?.[0]
    if (sample && macOf(undefined, sample.input) === sample.mac) keyed = false
  }
  report.keyed = keyed
  // Chain settings come from the authentic genesis; from any genesis when nothing can be checked.
  const info = genesis ?? (keyed === true && k0 === undefined ? genesisVariants[0] : undefined)
  if (info) {
    genesis = info
    const interval = info.integrity.interval
    if (typeof interval === 'number') report.interval = interval
    const previous = info.integrity.previous
    if (previous && typeof previous === 'object') {
      const p = expandKeys(previous as Obj)
      if (typeof p.stream === 'string' && typeof p.seq === 'number') {
        report.previous = { stream: p.stream, seq: p.seq, closed: p.closed === true, present: false }
        ;(report as { previousMac?: string }).previousMac = typeof p.mac === 'string' ? p.mac : undefined
      }
    }
  }
  if (report.interval === undefined) {
    for (const s of seqs) {
      const iv = bySeq.get(s)![0]!.interval
      if (typeof iv === 'number') {
        report.interval = iv
        break
      }
    }
  }

  const canCheck = keyed === false || k0 !== undefined
  report.authenticated = k0 !== undefined
  if (genesisVariants.length === 0) {
    add(
      'genesis-missing',
      `the genesis record (seq 0) is missing${keyed === false ? '' : ': the stream cannot be authenticated'}`,
      { seq: 0 },
    )
    if (!canCheck) ctx.unverified = true
  } else if (keyed === true && k0 === undefined) {
    ctx.unverified = true
    if (!report.findings.some((f) => f.kind === 'genesis-invalid')) {
      const kids = [...new Set(unavailable)].join(', ') || '?'
      add(
        'key-unavailable',
        privateKeys.length === 0
          ? `the stream is sealed to verifier key ${kids}; pass --key with the matching private key to check its MACs`
          : `the stream is sealed to verifier key ${kids}, which is not among the keys given`,
      )
    }
  }
  if (keyed === false && expectKeyed) {
    add(
      'unauthenticated',
      'the stream is unkeyed (the service had no verifier key): its hashes show accidental damage only, anyone could have rewritten it',
    )
  }

  // Walk the key chain and check every record.
  const failing: Entry[] = []
  const maxSeq = seqs.length > 0 ? seqs[seqs.length - 1]! : -1
  if (canCheck) {
    let key: Buffer | undefined = k0 ? Buffer.from(k0) : undefined
    const candidates: Entry[] = []
    // Bounds the work spent naming re-MACed records when very many records fail.
    let budget = 200_000
    const walkTo = k0 ? maxSeq + REMAC_LOOKAHEAD : maxSeq
    for (let s = 0; s <= walkTo; s++) {
      // Later keys: was a failing record re-MACed with this one?
      if (key && candidates.length > 0) {
        for (let c = candidates.length - 1; c >= 0; c--) {
          const e = candidates[c]!
          if (s > e.seq && macOf(key, e.input) === e.mac) {
            e.keySeq = s
            candidates.splice(c, 1)
          }
        }
        budget -= candidates.length
        if (budget <= 0) candidates.length = 0
      }
      const variants = s <= maxSeq ? bySeq.get(s) : undefined
      if (variants) {
        for (const e of variants) {
          e.valid = macOf(key, e.input) === e.mac
          if (e.valid && !ctx.valid.has(s)) ctx.valid.set(s, e)
          else if (!e.valid) {
            failing.push(e)
            if (key && candidates.length < MAX_REMAC_CANDIDATES) candidates.push(e)
          } else failing.push(Object.assign(e, { valid: false }))
        }
      }
      if (key) {
        const next = nextKey(key)
        key.fill(0)
        key = next
      }
      if (s >= maxSeq && candidates.length === 0) break
    }
    key?.fill(0)
    k0?.fill(0)
  } else {
    // Nothing to check MACs with: structure only. Every first variant counts as present.
    for (const s of seqs) ctx.valid.set(s, bySeq.get(s)![0]!)
    for (const s of seqs) {
      const variants = bySeq.get(s)!
      if (variants.length > 1) {
        add(
          'inserted',
          `${variants.length} different records claim seq ${s}; without the key it is not known which is authentic`,
          {
            seq: s,
            lines: variants.flatMap((v) => v.lines),
          },
        )
      }
    }
  }

  const validSeqs = [...ctx.valid.keys()].sort((a, b) => a - b)
  const lastValidSeq = validSeqs.length > 0 ? validSeqs[validSeqs.length - 1]! : -1
  ctx.lastValid = lastValidSeq >= 0 ? ctx.valid.get(lastValidSeq) : undefined
  const closing = [...ctx.valid.values()].find((e) => e.mark === 'end')
  const closedSeq = closing ? closing.seq : undefined
  report.closed = closing !== undefined && closing.seq === lastValidSeq

  // Name each failing record.
  for (const e of failing) {
    const s = e.seq
    const atSeq = ctx.valid.get(s)
    const before = ctx.valid.get(s - 1)
    const after = ctx.valid.get(s + 1)
    if (atSeq && atSeq !== e) {
      add(
        'inserted',
        `a forged record claims seq ${s}, which the authentic record on line ${atSeq.line} holds`,
        {
          seq: s,
          lines: e.lines,
        },
      )
    } else if (closedSeq !== undefined && s > closedSeq) {
      add(
        'inserted',
        `a forged record claims seq ${s}, after the stream's closing record (seq ${closedSeq})`,
        {
          seq: s,
          lines: e.lines,
        },
      )
    } else if (e.keySeq !== undefined) {
      add(
        'remacked',
        `seq ${s} was modified and re-MACed with the key of seq ${e.keySeq}: whoever did it held the process's key at seq ${e.keySeq} or later, and cannot have held the key of seq ${s}`,
        { seq: s, keySeq: e.keySeq, lines: e.lines },
      )
    } else if (s > lastValidSeq && !(before && before.mac === e.prev)) {
      add(
        'inserted',
        `a forged record claims seq ${s}, past the last authentic record (seq ${lastValidSeq})`,
        {
          seq: s,
          lines: e.lines,
        },
      )
    } else {
      const macKept = after !== undefined && after.prev === e.mac
      add(
        'modified',
        macKept
          ? `seq ${s} was changed after it was written (its MAC is the one the next record links to; the content is not)`
          : `seq ${s} does not match its MAC: content and MAC were changed`,
        { seq: s, lines: e.lines },
      )
    }
  }

  // Links between consecutive present records (the MACs already cover them; this catches unchecked streams).
  if (!canCheck) {
    for (const s of validSeqs) {
      const e = ctx.valid.get(s)!
      const before = ctx.valid.get(s - 1)
      if (before && e.prev !== before.mac) {
        add(
          'broken-link',
          `seq ${s} does not link to the record before it (prev differs from the MAC of seq ${s - 1})`,
          {
            seq: s,
            lines: e.lines,
          },
        )
      }
    }
  }

  // Gaps: seqs no record (authentic or not) holds.
  const end = Math.max(lastValidSeq, closedSeq ?? -1)
  let gapStart = -1
  for (let s = 0; s <= end + 1; s++) {
    const present = s <= end && (bySeq.has(s) || ctx.valid.has(s))
    if (!present && s <= end) {
      if (gapStart < 0) gapStart = s
    } else if (gapStart >= 0) {
      if (!(gapStart === 0 && s - 1 === 0 && report.findings.some((f) => f.kind === 'genesis-missing'))) {
        add('deleted', `${seqRange(gapStart, s - 1)} missing`, { from: gapStart, to: s - 1 })
      }
      gapStart = -1
    }
  }

  // Intact runs.
  let runStart = -1
  let runPrev = -2
  for (const s of validSeqs) {
    const e = ctx.valid.get(s)!
    if (canCheck && !e.valid) continue
    if (s !== runPrev + 1) {
      if (runStart >= 0) report.intact.push([runStart, runPrev])
      runStart = s
    }
    runPrev = s
  }
  if (runStart >= 0 && canCheck) report.intact.push([runStart, runPrev])
  if (!canCheck) report.intact = []

  if (seqs.length > 0) {
    report.firstSeq = seqs[0]
    report.lastSeq = lastValidSeq >= 0 ? lastValidSeq : seqs[seqs.length - 1]
  }
  const times = [...ctx.valid.values()].map((e) => e.time).filter(Number.isFinite)
  if (times.length > 0) {
    report.start = new Date(Math.min(...times)).toISOString()
    report.end = new Date(Math.max(...times)).toISOString()
  }

  // Losses the writer recorded: each loss record, and totals larger than the loss records seen.
  let recorded = 0
  for (const s of validSeqs) {
    const e = ctx.valid.get(s)!
    if (!e.loss || (canCheck && !e.valid)) continue
    const { dropped, total, reason } = e.loss
    if (dropped !== undefined && dropped > 0) {
      recorded += dropped
      add('dropped', `${dropped} events dropped before seq ${s} (${reason ?? 'no reason given'})`, {
        seq: s,
        count: dropped,
        reason,
        lines: e.lines,
      })
    }
    if (total !== undefined && total > recorded) {
      add('dropped', `${total - recorded} events dropped before seq ${s} (unrecorded losses)`, {
        seq: s,
        count: total - recorded,
        reason: 'unrecorded',
        lines: e.lines,
      })
      recorded = total
    }
  }

  // Checkpoint cadence: a silence longer than the interval with records missing inside it.
  const interval = report.interval
  if (interval !== undefined && interval > 0) {
    const marks = validSeqs.map((s) => ctx.valid.get(s)!).filter((e) => e.mark !== undefined)
    for (let i = 1; i < marks.length; i++) {
      const a = marks[i - 1]!
      const b = marks[i]!
      if (!(b.time - a.time > allowanceSeconds(interval) * 1000)) continue
      let missing = false
      for (let s = a.seq + 1; s < b.seq && !missing; s++) if (!bySeq.has(s)) missing = true
      if (missing) {
        add(
          'checkpoint-missing',
          `no checkpoint between seq ${a.seq} (${iso(a.time)}) and seq ${b.seq} (${iso(b.time)}), ${Math.round((b.time - a.time) / 1000)} s apart with a ${interval} s interval, and records are missing there`,
          { from: a.seq, to: b.seq },
        )
      }
    }
  }

  // Order of appearance (meaningless for Elasticsearch documents, which come back in any order).
  if (!ignoreOrder && !all.some((e) => e.indexed)) {
    const ordered = validSeqs.map((s) => ctx.valid.get(s)!).filter((e) => e.valid !== false)
    const misplaced = outOfOrder(ordered.map((e) => e.position))
    if (misplaced.length > 0) {
      const seqsOut = misplaced.map((i) => ordered[i]!.seq)
      add(
        'reordered',
        `${seqsOut.length} record(s) appear out of the order they were written: seq ${seqsOut.slice(0, LIST_LIMIT).join(', ')}${seqsOut.length > LIST_LIMIT ? ', ...' : ''}`,
        { lines: misplaced.slice(0, LIST_LIMIT).map((i) => ordered[i]!.line) },
      )
    }
  }
  return ctx
}

/** Indexes not in a longest increasing subsequence of `positions`: the fewest records to move. */
function outOfOrder(positions: number[]): number[] {
  const n = positions.length
  const tails: number[] = []
  const prevIdx = new Array<number>(n).fill(-1)
  for (let i = 0; i < n; i++) {
    const p = positions[i]!
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (positions[tails[mid]!]! < p) lo = mid + 1
      else hi = mid
    }
    if (lo > 0) prevIdx[i] = tails[lo - 1]!
    tails[lo] = i
  }
  const keep = new Set<number>()
  let k = tails.length > 0 ? tails[tails.length - 1]! : -1
  while (k >= 0) {
    keep.add(k)
    k = prevIdx[k]!
  }
  const out: number[] = []
  for (let i = 0; i < n; i++) if (!keep.has(i)) out.push(i)
  return out
}

function checkLineage(successor: StreamContext, pred: StreamContext): void {
  const prev = successor.report.previous!
  const prevMac = (successor.report as { previousMac?: string }).previousMac
  const at = pred.valid.get(prev.seq)
  const lastValid = pred.lastValid?.seq ?? -1
  if (prev.seq > lastValid) {
    pred.report.findings.push(
      finding(
        pred.report.stream,
        'deleted',
        `${seqRange(lastValid + 1, prev.seq)} missing: the next stream of this instance (${successor.report.stream}) recorded that this one had reached seq ${prev.seq}`,
        { from: lastValid + 1, to: prev.seq },
      ),
    )
  } else if (at && prevMac !== undefined && at.mac !== prevMac) {
    successor.report.findings.push(
      finding(
        successor.report.stream,
        'lineage-mismatch',
        `this stream's genesis names seq ${prev.seq} of stream ${prev.stream} with another MAC than the one present: one of the two streams was rewritten`,
        { seq: 0 },
      ),
    )
  }
}

function finishTail(ctx: StreamContext, until: number | undefined): void {
  const r = ctx.report
  if (r.closed || ctx.lastValid === undefined) return
  const last = ctx.lastValid
  const interval = r.interval
  if (ctx.successor !== undefined) {
    r.findings.push(
      finding(
        r.stream,
        'never-closed',
        `the stream has no closing record after seq ${last.seq} (${iso(last.time)}), and the same instance then started stream ${ctx.successor}: the process stopped without closing, or the tail was deleted`,
        { seq: last.seq },
      ),
    )
    return
  }
  if (interval === undefined || interval <= 0 || until === undefined || !Number.isFinite(last.time)) return
  const silence = (until - last.time) / 1000
  if (silence > allowanceSeconds(interval)) {
    r.findings.push(
      finding(
        r.stream,
        'truncated-tail',
        `no checkpoint or closing record within ${interval} s after seq ${last.seq} (${iso(last.time)}); the input runs to ${iso(until)}: records after seq ${last.seq} were deleted, or the process stopped without closing`,
        { seq: last.seq },
      ),
    )
  }
}

function finishStatus(r: StreamReport): void {
  const sev = new Set(r.findings.map((f) => f.severity))
  if (sev.has('tamper')) r.status = 'tampered'
  else if (sev.has('gap') || sev.has('order')) r.status = 'gaps'
  else if (sev.has('unverifiable') || r.keyed === undefined) r.status = 'unverified'
  else if (r.keyed === false) r.status = 'unauthenticated'
  else if (!r.closed) r.status = 'open'
  else r.status = 'intact'
  delete (r as { previousMac?: string }).previousMac
}

function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : 'unknown time'
}

function summarise(report: VerifyReport): string {
  const n = report.streams.length
  if (n === 0) return 'no audit records found in the input'
  const bad = report.streams.filter((s) => s.status === 'tampered' || s.status === 'gaps').length
  if (report.exitCode === 1) {
    return `TAMPERING OR GAPS FOUND: ${report.findings.filter((f) => f.severity !== 'unverifiable').length} finding(s) in ${bad} of ${n} stream(s)`
  }
  if (report.exitCode === 2)
    return `NOT VERIFIED: ${n} stream(s), MACs could not be checked (verifier key missing)`
  const unauth = report.streams.filter((s) => s.status === 'unauthenticated').length
  if (unauth > 0) {
    return `no damage found in ${n} stream(s), but ${unauth} are unauthenticated (unkeyed chain): tampering by someone able to recompute hashes would not show`
  }
  return `intact: ${n} stream(s), ${report.input.records - report.input.duplicates} records, every MAC checked`
}
