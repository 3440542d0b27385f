/**
 * A map that keeps its `max` most recently inserted keys (the oldest insertion goes first), as
 * `map.set(k, v); if (map.size > max) map.delete(map.keys().next().value)` does, at O(1) per call.
 * That idiom is not O(1) in V8: a Map keeps deleted entries as holes until it rehashes, and a new
 * iterator steps over every hole before the first live entry; with 65,536 entries kept that cost
 * 29 µs per insertion (about 29 s of the 37 s that verifying 1 M format-2 records took).
 *
 * No object per entry: the map holds each key's insertion number, and two arrays indexed by it
 * (less `base`) hold the keys in insertion order and their values. A report keeps 65,536 request
 * ids in flight here while millions pass; wrapper objects per entry lived long enough to reach the
 * old generation and die there, which the full collections paid for.
 */
/** The value of a slot whose key was deleted or evicted (its key's number is no longer its). */
const GONE: unique symbol = Symbol('gone')

export class RecentMap<K, V> {
  /** Each live key's insertion number (a key deleted and set again gets a new one). */
  private readonly map = new Map<K, number>()
  /** Keys by insertion number less `base` (slots of deleted keys stay until dropped). */
  private keys: K[] = []
  private values: Array<V | typeof GONE> = []
  /** Insertion number of `keys[0]`. */
  private base = 0
  /** Index of the oldest slot not yet evicted. */
  private head = 0

  /** `slack`: slots of deleted keys kept before the arrays are compacted (small in tests). */
  constructor(
    private readonly max: number,
    private readonly slack = 1024,
  ) {}

  get size(): number {
    return this.map.size
  }

  get(key: K): V | undefined {
    const n = this.map.get(key)
    return n === undefined ? undefined : (this.values[n - this.base] as V)
  }

  has(key: K): boolean {
    return this.map.has(key)
  }

  set(key: K, value: V): void {
    const held = this.map.get(key)
    // A key set again keeps its place in the order (as a Map's does).
    if (held !== undefined) {
      this.values[held - this.base] = value
      return
    }
    this.map.set(key, this.base + this.keys.length)
    this.keys.push(key)
    this.values.push(value)
    while (this.map.size > this.max) this.evictOldest()
    // Deleted keys leave their slot behind: drop them once they far outnumber the live keys, or a
    // map that is mostly deleted from (requests in flight) would grow without end.
    if (this.keys.length - this.head > 2 * this.max + this.slack) this.compact()
  }

  delete(key: K): boolean {
    const n = this.map.get(key)
    if (n === undefined) return false
    this.map.delete(key)
    // The value is not held past its deletion, and the slot is known dead without asking the map.
    this.values[n - this.base] = GONE
    return true
  }

  /** The live entries, oldest insertion first; deleting while iterating is allowed (as a Map's). */
  *entries(): IterableIterator<[K, V]> {
    for (const [key, n] of this.map) yield [key, this.values[n - this.base] as V]
  }

  /** Keeps the live slots only, renumbered from 0 (the map's numbers with them). */
  private compact(): void {
    const keys: K[] = []
    const values: Array<V | typeof GONE> = []
    for (let i = this.head; i < this.keys.length; i++) {
      const key = this.keys[i]!
      if (this.values[i] === GONE) continue
      this.map.set(key, keys.length)
      keys.push(key)
      values.push(this.values[i] as V)
    }
    this.keys = keys
    this.values = values
    this.base = 0
    this.head = 0
  }

  private evictOldest(): void {
    for (;;) {
      const i = this.head++
      const key = this.keys[i]!
      // A slot holds its key's live value until the key is deleted (a key set again after that
      // has a slot of its own): no map look-up to tell.
      const live = this.values[i] !== GONE
      this.values[i] = GONE
      if (this.head > this.slack && this.head * 2 > this.keys.length) {
        // Drop the evicted slots: the numbers of those after them stay valid with a larger base.
        this.keys = this.keys.slice(this.head)
        this.values = this.values.slice(this.head)
        this.base += this.head
        this.head = 0
      }
      // Slots of keys deleted since (or deleted and set again: a newer number) are skipped.
      if (live) {
        this.map.delete(key)
        return
      }
    }
  }
}
