/** What the verifier reports: findings, per-stream reports and the whole report. */

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
  /** The writer recorded (in a sealed loss record) that it could not write some accepted events. */
  | 'dropped'
  /** Lines between this stream's records that could not be read: they may have held its records. */
  | 'unreadable'
  /** Format 2: records no authentic epoch MAC reaches through intact links (they may be intact; nothing proves it). */
  | 'unproven'

export type Severity = 'tamper' | 'gap' | 'order' | 'unverifiable'

export const SEVERITY: Record<FindingKind, Severity> = {
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
  unauthenticated: 'gap',
  dropped: 'gap',
  unreadable: 'gap',
  unproven: 'gap',
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
  /** For `remacked`: the seq (format 1) or the epoch (format 2) whose key made the MAC. */
  keySeq?: number
  /** For `dropped`: how many events; for `unreadable`: how many lines. */
  count?: number
  /** For `dropped`: why (buffer-full, destination-error, shutdown-deadline, sealer-failed, other). */
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

export interface InputStats {
  lines: number
  blank: number
  /** JSON values that hold no audit record (other logs, ES bulk action lines, ...). */
  skipped: number
  /** Lines that are not JSON (plain text included). */
  unparsable: number
  /** Of those, lines that might have held records: cut or damaged JSON, too long, unfinished documents. */
  unreadable: number
  /** Line numbers (1-based) of the first unreadable lines (at most 100). */
  unreadableLines: number[]
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
  privateKey?:
    | string
    | import('node:crypto').KeyObject
    | ReadonlyArray<string | import('node:crypto').KeyObject>
  /** End of the window the input covers. Default: the latest @timestamp in the input. */
  until?: string | number | Date
  /** Do not report records that appear out of seq order. */
  ignoreOrder?: boolean
  /** Report unkeyed streams as a gap. Default: true when a private key is given. */
  expectKeyed?: boolean
  /** Where records that arrive far out of order are spilled (default: the OS temp directory). */
  tempDir?: string
  /** Memory for such records before they are spilled (default 32 MiB). */
  spillBudgetBytes?: number
  /**
   * Worker threads that read the input beside the main thread (verifyStream, evidenceReport and the
   * CLI only). Default: one per CPU beyond the first, at most 3, and none on one CPU. 0: one thread.
   */
  threads?: number
  /** Input read before worker threads are started (small inputs stay on one thread). Default 16 MiB. */
  threadsAfterBytes?: number
  /** The worker script (tests). Default: dist/verify-worker.cjs; without it, one thread. */
  workerFile?: string
}

export function finding(
  stream: string,
  kind: FindingKind,
  message: string,
  extra: Partial<Finding> = {},
): Finding {
  return { kind, severity: SEVERITY[kind], stream, ...extra, message }
}

export function seqRange(from: number, to: number): string {
  return from === to ? `seq ${from}` : `seq ${from}-${to} (${to - from + 1} records)`
}

export function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : 'unknown time'
}

/** Seconds of slack on top of the checkpoint interval before a silence counts. */
export function allowanceSeconds(interval: number): number {
  return interval * 1.25 + 5
}
