/**
 * Walks a stream's key chain k[0], k[1], ... forward (k[i+1] = SHA-256(k[i]), each old key zeroed)
 * and, on the way, tries the keys on records that failed their own MAC: one that verifies with a
 * LATER key was rewritten by someone who held that key (took the process after it was written).
 */
import { createMacOf, nextKey } from '../integrity/chain'

/** Failing records tried against later keys at once, and the MACs spent on it per stream. */
const MAX_CANDIDATES = 64
const BUDGET = 200_000

export interface RemacCandidate {
  seq: number
  input: string
  mac: string
  /** Set when a later key makes the MAC. */
  keySeq?: number
}

export class KeyCursor {
  /** k[seq]; undefined for an unkeyed chain (MAC = SHA-256 of the input). */
  private key: Buffer | undefined
  seq = 0
  /**
   * The seq asked for: keys are derived up to it only when one is used (MACs checked on worker
   * threads need none here) or while candidates wait for later keys.
   */
  private target = 0
  private candidates: RemacCandidate[] = []
  private budget = BUDGET
  private readonly mac = createMacOf()

  constructor(k0: Buffer | undefined) {
    this.key = k0 ? Buffer.from(k0) : undefined
  }

  get keyed(): boolean {
    return this.key !== undefined
  }

  /** Moves to k[s] (s >= the current seq), trying every key on the way on the candidates. */
  advanceTo(s: number): void {
    if (s > this.target) this.target = s
    if (this.candidates.length > 0) this.catchUp()
  }

  private catchUp(): void {
    const s = this.target
    if (!this.key) {
      this.seq = s
      return
    }
    while (this.seq < s) {
      const next = nextKey(this.key)
      this.key.fill(0)
      this.key = next
      this.seq++
      if (this.candidates.length > 0) this.tryCandidates()
    }
  }

  macOf(input: string): string {
    this.catchUp()
    return this.mac(this.key, input)
  }

  /** Remembers a failing record at the current seq, to be tried with the keys that follow. */
  addCandidate(c: RemacCandidate): void {
    this.catchUp()
    if (this.key && this.candidates.length < MAX_CANDIDATES && this.budget > 0) this.candidates.push(c)
  }

  /** Tries a few keys past the end of the stream for the candidates still open, then forgets the key. */
  finish(lastSeq: number, lookahead: number): void {
    if (this.candidates.length > 0) this.advanceTo(Math.max(this.target, lastSeq + lookahead))
    this.key?.fill(0)
    this.key = undefined
    this.candidates = []
  }

  private tryCandidates(): void {
    const key = this.key!
    for (let c = this.candidates.length - 1; c >= 0; c--) {
      const e = this.candidates[c]!
      if (this.seq > e.seq && this.mac(key, e.input) === e.mac) {
        e.keySeq = this.seq
        this.candidates.splice(c, 1)
      }
    }
    this.budget -= this.candidates.length
    if (this.budget <= 0) this.candidates = []
  }
}
