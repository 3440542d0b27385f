/**
 * A stream's start: which chain it is (keyed HMAC or unkeyed SHA-256), its first key k[0] (opened
 * with the verifier's private key) and its settings (checkpoint interval, predecessor stream).
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { expandKeys } from '../integrity/canonical'
import { macOf } from '../integrity/chain'
import { keyId, type SealedKey, unsealKey } from '../integrity/keys'
import type { Entry } from './entry'
import { type Finding, finding } from './findings'

export interface StreamStart {
  /** k[0]; undefined for an unkeyed chain or when it could not be opened. */
  k0?: Buffer
  keyed: boolean | undefined
  /** MACs can be checked (unkeyed chain, or k[0] opened). */
  canCheck: boolean
  interval?: number
  previous?: { stream: string; seq: number; closed: boolean; mac?: string }
  findings: Finding[]
}

/**
 * Opens the genesis from its variants (normally one; forgeries may add others). `first` is the
 * stream's first present record, used to recognise an unkeyed chain without genesis.
 */
export function openGenesis(
  stream: string,
  variants: readonly Entry[],
  first: Entry | undefined,
  privateKeys: readonly KeyObject[],
  expectKeyed: boolean,
): StreamStart {
  const findings: Finding[] = []
  let k0: Buffer | undefined
  let keyed: boolean | undefined
  let genesis: Entry | undefined
  let fallback: Buffer | undefined
  const unavailable: string[] = []
  for (const g of variants) {
    const alg = g.genesis?.alg
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
    const sealed = g.genesis?.key as SealedKey | undefined
    if (!sealed || typeof sealed !== 'object') continue
    const key = privateKeys.find((k) => keyId(createPublicKey(k)) === sealed.kid)
    if (!key) {
      unavailable.push(String(sealed.kid))
      continue
    }
    let candidate: Buffer
    try {
      candidate = unsealKey(sealed, key, stream)
    } catch {
      findings.push(
        finding(
          stream,
          'genesis-invalid',
          `the sealed first key in the genesis (line ${g.line}) does not open with verifier key ${sealed.kid}: the genesis was altered`,
          { seq: 0, lines: [g.line] },
        ),
      )
      continue
    }
    if (macOf(candidate, g.input) === g.mac) {
      k0 = candidate
      genesis = g
      break
    }
    // The key opens but the genesis content was changed: keep the key, the walk names the genesis.
    fallback ??= candidate
  }
  if (k0 === undefined && fallback !== undefined) k0 = fallback
  else fallback?.fill(0)
  if (keyed === undefined && variants.length === 0 && first && macOf(undefined, first.input) === first.mac) {
    // No genesis: an unkeyed chain still shows itself by its hashes.
    keyed = false
  }

  const start: StreamStart = { k0, keyed, canCheck: keyed === false || k0 !== undefined, findings }
  // Chain settings come from the authentic genesis; from any genesis when nothing can be checked.
  const info = genesis ?? (keyed === true && k0 === undefined ? variants[0] : undefined)
  if (info) settingsFrom(info, start)

  if (variants.length === 0) {
    findings.push(
      finding(
        stream,
        'genesis-missing',
        `the genesis record (seq 0) is missing${keyed === false ? '' : ': the stream cannot be authenticated'}`,
        { seq: 0 },
      ),
    )
  } else if (keyed === true && k0 === undefined && !findings.some((f) => f.kind === 'genesis-invalid')) {
    const kids = [...new Set(unavailable)].join(', ') || '?'
    findings.push(
      finding(
        stream,
        'key-unavailable',
        privateKeys.length === 0
          ? `the stream is sealed to verifier key ${kids}; pass --key with the matching private key to check its MACs`
          : `the stream is sealed to verifier key ${kids}, which is not among the keys given`,
      ),
    )
  }
  if (keyed === false && expectKeyed) {
    findings.push(
      finding(
        stream,
        'unauthenticated',
        'the stream is unkeyed (the service had no verifier key): its hashes show accidental damage only, anyone could have rewritten it',
      ),
    )
  }
  return start
}

function settingsFrom(info: Entry, start: StreamStart): void {
  if (typeof info.interval === 'number') start.interval = info.interval
  const previous = info.genesis?.previous
  if (previous && typeof previous === 'object' && !Array.isArray(previous)) {
    const p = expandKeys(previous as Record<string, unknown>)
    if (typeof p.stream === 'string' && typeof p.seq === 'number') {
      start.previous = {
        stream: p.stream,
        seq: p.seq,
        closed: p.closed === true,
        mac: typeof p.mac === 'string' ? p.mac : undefined,
      }
    }
  }
}
