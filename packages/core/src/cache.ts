// The one bounded cache of core. Every cache of derived strings uses it (the redaction policy's key
// verdicts and its memos of PHI-free texts, paths and path segments; the logger's action tokens), so
// there is one eviction rule to know:
//
//   A cache has a fixed number of slots. A key goes to the slot its hash names and replaces whatever
//   was there (direct-mapped, like a CPU cache).
//
// Why this rule: memory is fixed when the cache is made, whatever the input; a flood of new keys
// (ids in paths, hostile key names) only ever pushes out the keys of the slots it lands on, never
// the whole cache (as clearing when full did) and never stops the cache from learning (as no longer
// adding when full did); and a hit costs a hash of three characters and one string comparison, with
// no allocation. Two recurring keys that share a slot take turns missing: the slot counts are sized
// so that a service's few hundred recurring keys rarely meet.
//
// Used as a map (`get`/`set`) or as a set (`has`/`add`, for memos of strings a pure function returned
// unchanged: no values are stored then). What may go in: a value that is a pure function of the key (under the policy or logger that owns
// the cache), so that a miss only costs recomputing it. Keys longer than `maxKeyLength` are not kept
// (rarely repeated, costly to compare), and a kept key is copied first: a key may be a slice of a
// larger string (Express's `req.path` is one of `req.url`, query string included), which the cache
// would otherwise keep alive, PHI and all. A cache belongs to the instance whose facts it holds (a
// compiled policy, a logger), never to the module.

export class BoundedCache<V = true> {
  // Allocated on first use: many policies (one per test, say) never fill a slot.
  private keys: string[] | undefined
  private values: (V | undefined)[] | undefined
  private readonly mask: number

  /**
   * @param slots a power of two
   * @param maxKeyLength longest key kept (longer ones are never looked up or stored)
   */
  constructor(
    private readonly slots: number,
    private readonly maxKeyLength: number,
  ) {
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`BoundedCache slots must be a power of two; got ${slots}`)
    }
    this.mask = slots - 1
  }

  /** The slot `key` goes to, or -1 when it is never kept (empty or too long). */
  slot(key: string): number {
    const n = key.length
    return n === 0 || n > this.maxKeyLength ? -1 : slotOf(key, n) & this.mask
  }

  /** Whether `key` is kept (by `add` or `set`). */
  has(key: string): boolean {
    const slot = this.slot(key)
    return slot !== -1 && this.keys !== undefined && this.keys[slot] === key
  }

  /** The value kept for `key`, or undefined. */
  get(key: string): V | undefined {
    const slot = this.slot(key)
    if (slot === -1 || this.values === undefined) return undefined
    return this.keys![slot] === key ? this.values[slot] : undefined
  }

  /** Keeps `key` (a cache used as a set: no value is stored). */
  add(key: string): void {
    const slot = this.slot(key)
    if (slot === -1) return
    // '' marks an empty slot: the empty string is never a key.
    this.keys ??= new Array<string>(this.slots).fill('')
    this.keys[slot] = ownCopy(key)
    if (this.values !== undefined) this.values[slot] = undefined
  }

  /** Keeps `value` for `key` in the key's slot, in place of what was there. */
  set(key: string, value: V): void {
    const slot = this.slot(key)
    if (slot === -1) return
    this.keys ??= new Array<string>(this.slots).fill('')
    this.values ??= new Array<V | undefined>(this.slots).fill(undefined)
    this.keys[slot] = ownCopy(key)
    this.values[slot] = value
  }

  /** The keys kept now (for tests and audits of what the cache holds). */
  keptKeys(): string[] {
    return this.keys?.filter((k) => k !== '') ?? []
  }
}

/**
 * A hash of the length and three characters (first, middle, last), mixed by multiplication so that
 * keys of one length spread over all slots. Keys that differ only elsewhere share a slot, which costs
 * misses, never a wrong answer (the whole key is compared).
 */
function slotOf(s: string, n: number): number {
  let h = Math.imul(n ^ s.charCodeAt(0), 0x9e3779b1)
  h = Math.imul(h ^ s.charCodeAt(n >> 1), 0x85ebca6b)
  h = Math.imul(h ^ s.charCodeAt(n - 1), 0xc2b2ae35)
  return h ^ (h >>> 15)
}

/** A string with its own storage: concatenation then slice makes V8 copy the characters into a new one. */
function ownCopy(s: string): string {
  return ` ${s}`.slice(1)
}
