/**
 * A map that keeps its `max` most recently inserted keys (the oldest insertion goes first), as
 * `map.set(k, v); if (map.size > max) map.delete(map.keys().next().value)` does, at O(1) per call.
 * That idiom is not O(1) in V8: a Map keeps deleted entries as holes until it rehashes, and a new
 * iterator steps over every hole before the first live entry; with 65,536 entries kept that cost
 * 29 µs per insertion (about 29 s of the 37 s that verifying 1 M format-2 records took).
 */
export class RecentMap<K, V> {
  private readonly map = new Map<K, { value: V; n: number }>()
  /** Keys in insertion order, with the insertion number they had (a key deleted and set again is newer). */
  private order: Array<{ key: K; n: number }> = []
  private head = 0
  private inserted = 0

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value
  }

  has(key: K): boolean {
    return this.map.has(key)
  }

  set(key: K, value: V): void {
    const held = this.map.get(key)
    // A key set again keeps its place in the order (as a Map's does).
    if (held) {
      held.value = value
      return
    }
    const n = this.inserted++
    this.map.set(key, { value, n })
    this.order.push({ key, n })
    while (this.map.size > this.max) this.evictOldest()
    // Deleted keys leave their place in the order behind: drop them once they far outnumber the
    // live keys, or a map that is mostly deleted from (requests in flight) would grow without end.
    if (this.order.length - this.head > 2 * this.max + 1024) this.compact()
  }

  delete(key: K): boolean {
    return this.map.delete(key)
  }

  /** The live entries, oldest insertion first; deleting while iterating is allowed (as a Map's). */
  *entries(): IterableIterator<[K, V]> {
    for (const [key, held] of this.map) yield [key, held.value]
  }

  private compact(): void {
    this.order = this.order.slice(this.head).filter((o) => this.map.get(o.key)?.n === o.n)
    this.head = 0
  }

  private evictOldest(): void {
    for (;;) {
      const o = this.order[this.head++]!
      if (this.head > 1024 && this.head * 2 > this.order.length) {
        this.order = this.order.slice(this.head)
        this.head = 0
      }
      // Entries of keys deleted since (or deleted and set again: a newer number) are skipped.
      if (this.map.get(o.key)?.n === o.n) {
        this.map.delete(o.key)
        return
      }
    }
  }
}
