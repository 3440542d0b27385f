// Compiling a redaction policy: options are checked once, with messages that say what to change, and
// everything the per-event walk needs (key verdict cache, precompiled detectors, resolved modes) is
// built here so that no event pays for parsing.

import { BoundedCache } from '../cache'
import type { Detector, RedactionMode, RedactionOptions } from '../types'
import { BUILTIN_DETECTORS, BUILTIN_NAMES, type BuiltinDetector, OPT_IN_NAMES } from './detectors'
import { compileKeyMatcher, type KeyVerdict } from './keys'
import { loadPseudonymKey, MIN_KEY_BYTES, maskOf } from './pseudonymize'

/** A compiled redaction policy. Opaque: build it with `compilePolicy()`, pass it to `redact()`. */
export interface Policy {
  /** Things the operator should know (printed once by the logger at start-up). */
  readonly warnings: readonly string[]
  /** Whether pseudonymisation has a secret; without one pseudonyms fall back to masks. */
  readonly hasPseudonymKey: boolean
}

export const MASK = 0
export const REMOVE = 1
export const PSEUDONYMIZE = 2
export type Mode = typeof MASK | typeof REMOVE | typeof PSEUDONYMIZE

/** A detector ready to run: built-in or user-supplied, with its mode resolved. */
export interface RunDetector extends BuiltinDetector {
  mode: Mode
  mask: string
  normalize?: (value: string) => string
  user: boolean
}

export interface Compiled {
  detectors: RunDetector[]
  /** Whether user detectors exist (they run on every string, gates cannot know their formats). */
  userDetectors: boolean
  // Memos of strings found PHI-free under this policy (sets: see cache.ts). Only
  // strings that came out exactly as they went in are kept, so a memo never holds an identifier a
  // detector found, nor the text that replaced it.
  /** Short strings `scrub()` returned unchanged. */
  plainTexts: BoundedCache
  /** URL paths `redactUrlPath()` returned unchanged. */
  plainPaths: BoundedCache
  /** Path segments kept unchanged after a segment naming nothing, and naming nothing themselves. */
  plainSegments: BoundedCache
  key: Buffer | undefined
  keyVerdict(key: string): KeyVerdict
  /**
   * keyVerdict without the cache, for words that come from values rather than from key names (URL
   * path segments): caching those would keep identifiers from paths in memory, and each new one
   * would push out a key name that recurs.
   */
  judgeKey(key: string): KeyVerdict
  modeFor(category: string): Mode
  maskFor(category: string): string
}

export const INTERNAL: unique symbol = Symbol('boundary-audit.policy')

export interface InternalPolicy extends Policy {
  readonly [INTERNAL]: Compiled
}

/**
 * The one start-up warning about a missing pseudonym key (the logger gives it whenever there is no key;
 * a policy asking for pseudonyms without one gives the same text, printed once).
 */
export const NO_PSEUDONYM_KEY_WARNING =
  'no pseudonym key (BOUNDARY_AUDIT_PSEUDONYM_KEY or redaction.pseudonymKey), so patient ids (audit.resource.id) and route parameters in url.path are masked as [REDACTED:resource], and identifiers set to pseudonymize are masked instead: the trail cannot say which patient a record concerns. Create a key with `boundary-audit keygen --out DIR` and set BOUNDARY_AUDIT_PSEUDONYM_KEY=DIR/pseudonym.key (the same key on every replica)'

const MODES: readonly RedactionMode[] = ['mask', 'remove', 'pseudonymize']
const OPTION_NAMES = ['mode', 'keys', 'allowKeys', 'detectors', 'disableDetectors', 'modes', 'pseudonymKey']
/**
 * Cache slots (see cache.ts). An event has more texts (roles, user agents, actor ids) than paths, and
 * paths holding ids ("/patients/12345") are many and come and go: they only evict recurring ones.
 * Key names are a service's vocabulary, a few hundred at most: many slots, so that few share one.
 */
const TEXT_SLOTS = 1024
const PATH_SLOTS = 512
const KEY_SLOTS = 2048
/** Longest text or path remembered; longer ones are rarely repeated and costly to compare. */
export const MEMO_LENGTH = 256
/** Longest key name whose verdict is remembered. */
const KEY_LENGTH = 64
/** Categories that are never pseudonymised: a keyed hash of a password is still a password oracle. */
const NEVER_PSEUDONYMIZED = new Set(['credential'])

/** Short, safe rendering of a bad option value for an error message. */
function got(value: unknown): string {
  try {
    if (value === null) return 'null'
    if (value instanceof RegExp) return String(value)
    if (Array.isArray(value)) return `an array of ${value.length}`
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
      case 'object':
        return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`
      case 'function':
        return 'a function'
      default:
        return `${typeof value} ${String(value)}`
    }
  } catch {
    return 'an unreadable value'
  }
}

function fail(option: string, expected: string, value: unknown): never {
  throw new TypeError(`boundary-audit: redaction.${option} ${expected}; got ${got(value)}`)
}

function checkMode(option: string, value: unknown): RedactionMode {
  if (typeof value !== 'string' || !MODES.includes(value as RedactionMode)) {
    fail(option, `must be one of ${MODES.map((m) => `'${m}'`).join(', ')}`, value)
  }
  return value as RedactionMode
}

function checkStrings(option: string, value: unknown): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail(option, 'must be an array of strings', value)
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim().length === 0)
      fail(`${option}[${i}]`, 'must be a non-empty string', v)
  })
  return value as string[]
}

function keyBytes(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw new TypeError(
      `boundary-audit: ${where} must be the secret (a string or Buffer of at least ${MIN_KEY_BYTES} bytes) or a path to a file holding it; got ${got(value)}`,
    )
  }
  return loadPseudonymKey(value, where)
}

const toMode = (m: RedactionMode): Mode =>
  m === 'remove' ? REMOVE : m === 'pseudonymize' ? PSEUDONYMIZE : MASK

function checkDetector(i: number, value: unknown): Detector {
  const where = `detectors[${i}]`
  if (value === null || typeof value !== 'object') {
    fail(where, `must be a detector object { name, pattern } or one of ${OPT_IN_NAMES.join(', ')}`, value)
  }
  const det = value as Detector
  if (typeof det.name !== 'string' || !/^[a-z0-9_]{1,32}$/.test(det.name)) {
    fail(`${where}.name`, 'must be 1-32 lowercase letters, digits or _', det.name)
  }
  if (!(det.pattern instanceof RegExp)) fail(`${where}.pattern`, 'must be a RegExp', det.pattern)
  if (!det.pattern.global)
    fail(`${where}.pattern`, 'must have the g flag (every match is replaced)', det.pattern)
  if (det.validate !== undefined && typeof det.validate !== 'function') {
    fail(`${where}.validate`, 'must be a function', det.validate)
  }
  if (det.normalize !== undefined && typeof det.normalize !== 'function') {
    fail(`${where}.normalize`, 'must be a function', det.normalize)
  }
  if (det.mode !== undefined) checkMode(`${where}.mode`, det.mode)
  return det
}

/**
 * Checks redaction options and compiles them. Throws a TypeError naming the option to fix.
 * `env` supplies BOUNDARY_AUDIT_PSEUDONYM_KEY when `pseudonymKey` is not given.
 */
export function compilePolicy(options?: RedactionOptions, env: NodeJS.ProcessEnv = process.env): Policy {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new TypeError(`boundary-audit: redaction must be an object; got ${got(options)}`)
  }
  const o: RedactionOptions = options ?? {}
  for (const name of Object.keys(o)) {
    if (!OPTION_NAMES.includes(name)) {
      throw new TypeError(
        `boundary-audit: redaction.${name} is not an option; expected one of ${OPTION_NAMES.join(', ')}`,
      )
    }
  }

  const defaultMode = o.mode === undefined ? 'mask' : checkMode('mode', o.mode)
  const keys = checkStrings('keys', o.keys)
  const allowKeys = checkStrings('allowKeys', o.allowKeys)
  const disable = checkStrings('disableDetectors', o.disableDetectors)
  for (const name of disable) {
    if (!(BUILTIN_NAMES as readonly string[]).includes(name)) {
      fail('disableDetectors', `must name built-in detectors (${BUILTIN_NAMES.join(', ')})`, name)
    }
  }

  const modes = new Map<string, RedactionMode>()
  if (o.modes !== undefined) {
    if (o.modes === null || typeof o.modes !== 'object' || Array.isArray(o.modes)) {
      fail('modes', 'must be an object of category -> mode', o.modes)
    }
    for (const [category, mode] of Object.entries(o.modes))
      modes.set(category, checkMode(`modes.${category}`, mode))
  }

  const userDetectors: Detector[] = []
  const optIn = new Set<string>()
  if (o.detectors !== undefined) {
    if (!Array.isArray(o.detectors)) fail('detectors', 'must be an array', o.detectors)
    o.detectors.forEach((entry: unknown, i: number) => {
      if (typeof entry === 'string') {
        if (!(OPT_IN_NAMES as readonly string[]).includes(entry)) {
          fail(
            `detectors[${i}]`,
            `must be a detector object or an opt-in built-in (${OPT_IN_NAMES.join(', ')})`,
            entry,
          )
        }
        optIn.add(entry)
      } else {
        userDetectors.push(checkDetector(i, entry))
      }
    })
  }

  let key: Buffer | undefined
  if (o.pseudonymKey !== undefined) key = keyBytes(o.pseudonymKey, 'redaction.pseudonymKey')
  else if (env.BOUNDARY_AUDIT_PSEUDONYM_KEY)
    key = keyBytes(env.BOUNDARY_AUDIT_PSEUDONYM_KEY, 'BOUNDARY_AUDIT_PSEUDONYM_KEY')

  const warnings: string[] = []
  const wantsPseudonyms =
    defaultMode === 'pseudonymize' ||
    [...modes.values()].includes('pseudonymize') ||
    userDetectors.some((det) => det.mode === 'pseudonymize')
  if (wantsPseudonyms && !key) {
    warnings.push(NO_PSEUDONYM_KEY_WARNING)
  }

  const resolvedModes = new Map<string, Mode>()
  const modeFor = (category: string): Mode => {
    let m = resolvedModes.get(category)
    if (m === undefined) {
      m = toMode(modes.get(category) ?? defaultMode)
      if (m === PSEUDONYMIZE && (!key || NEVER_PSEUDONYMIZED.has(category))) m = MASK
      if (resolvedModes.size < 1024) resolvedModes.set(category, m)
    }
    return m
  }
  const masks = new Map<string, string>()
  const maskFor = (category: string): string => {
    let m = masks.get(category)
    if (m === undefined) {
      m = maskOf(category)
      if (masks.size < 1024) masks.set(category, m)
    }
    return m
  }

  const detectors: RunDetector[] = []
  for (const det of userDetectors) {
    let mode = det.mode ? toMode(det.mode) : modeFor(det.name)
    if (mode === PSEUDONYMIZE && !key) mode = MASK
    detectors.push({
      name: det.name,
      re: new RegExp(det.pattern.source, det.pattern.flags),
      prefixed: false,
      validate: det.validate,
      normalize: det.normalize,
      need: 0,
      minRun: 0,
      optIn: false,
      mode,
      mask: maskOf(det.name),
      user: true,
    })
  }
  for (const det of BUILTIN_DETECTORS) {
    if (disable.includes(det.name)) continue
    if (det.optIn && !optIn.has(det.name)) continue
    detectors.push({ ...det, mode: modeFor(det.name), mask: maskOf(det.name), user: false })
  }

  const match = compileKeyMatcher({ keys, allowKeys })
  // A key is judged by its head: no identifier name is longer, and a 10 MB key must cost nothing.
  const judgeKey = (k: string): KeyVerdict => match(k.length > 128 ? k.slice(0, 128) : k)
  const verdicts = new BoundedCache<KeyVerdict>(KEY_SLOTS, KEY_LENGTH)
  const keyVerdict = (k: string): KeyVerdict => {
    let v = verdicts.get(k)
    if (v === undefined) {
      v = judgeKey(k)
      verdicts.set(k, v)
    }
    return v
  }

  const compiled: Compiled = {
    detectors,
    userDetectors: userDetectors.length > 0,
    plainTexts: new BoundedCache(TEXT_SLOTS, MEMO_LENGTH),
    plainPaths: new BoundedCache(PATH_SLOTS, MEMO_LENGTH),
    plainSegments: new BoundedCache(PATH_SLOTS, MEMO_LENGTH),
    key,
    keyVerdict,
    judgeKey,
    modeFor,
    maskFor,
  }
  const policy: InternalPolicy = {
    warnings: Object.freeze(warnings),
    hasPseudonymKey: key !== undefined,
    [INTERNAL]: compiled,
  }
  return Object.freeze(policy)
}

let fallback: Compiled | undefined

/**
 * The compiled form of a policy. Anything that is not a compiled policy (a hand-made object, undefined)
 * gets the default policy rather than an exception: redaction must never throw into the host.
 */
export function internal(policy: Policy | undefined): Compiled {
  try {
    const c = (policy as InternalPolicy | undefined)?.[INTERNAL]
    if (c) return c
  } catch {
    // a Proxy posing as a policy
  }
  fallback ??= (compilePolicy(undefined, {}) as InternalPolicy)[INTERNAL]
  return fallback
}
