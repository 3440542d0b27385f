/**
 * The state file: where this instance remembers its current stream, so that the stream started
 * after a restart can name its predecessor and the last checkpoint it reached. A verifier can then
 * tell "the process crashed after seq N" from "records after seq N were deleted".
 *
 * Written at the genesis, at every checkpoint and at the close (never per event), atomically
 * (temp file + rename). Any failure is ignored: the state file helps the verifier, it must never
 * stop the service.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'

export interface StreamState {
  v: 1
  service: string
  instance: string
  stream: string
  /** Seq and MAC of the last checkpoint (or genesis, or closing record) written. */
  seq: number
  mac: string
  time: string
  closed: boolean
}

/** What the genesis record says about the previous stream of the same instance. */
export interface PreviousStream {
  stream: string
  seq: number
  mac: string
  closed: boolean
}

export function readPrevious(file: string, service: string, instance: string): PreviousStream | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<StreamState>
    if (s.v !== 1 || s.service !== service || s.instance !== instance) return undefined
    if (typeof s.stream !== 'string' || !Number.isSafeInteger(s.seq) || typeof s.mac !== 'string')
      return undefined
    return { stream: s.stream, seq: s.seq as number, mac: s.mac, closed: s.closed === true }
  } catch {
    return undefined
  }
}

export function writeState(file: string, state: StreamState): void {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 })
    renameSync(tmp, file)
  } catch {
    // a read-only or missing directory only costs the restart link
  }
}
