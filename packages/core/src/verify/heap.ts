/** Binary min-heaps: a stream's records waiting for their turn, and the runs of a spill merge. */
import type { Entry } from './entry'

export class MinHeap<T> {
  protected items: T[] = []

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const a = this.items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.before(a[i]!, a[p]!)) break
      ;[a[i], a[p]] = [a[p]!, a[i]!]
      i = p
    }
  }

  pop(): T | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last !== undefined) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m]!, a[i]!]
        i = m
      }
    }
    return top
  }

  /** Empties the heap, returning its items in no particular order. */
  drain(): T[] {
    const a = this.items
    this.items = []
    return a
  }
}

/** Order of records within a stream: seq, then place in the input. */
export function entryBefore(a: Entry, b: Entry): boolean {
  return a.seq < b.seq || (a.seq === b.seq && a.position < b.position)
}

/** Order of spilled records: stream, seq, place in the input. */
export function compareEntries(a: Entry, b: Entry): number {
  if (a.stream !== b.stream) return a.stream < b.stream ? -1 : 1
  return a.seq - b.seq || a.position - b.position
}

export class EntryHeap extends MinHeap<Entry> {
  constructor() {
    super(entryBefore)
  }

  /** All entries with the smallest seq, in position order. */
  popGroup(): Entry[] {
    const first = this.pop()
    if (!first) return []
    const group = [first]
    while (this.items.length > 0 && this.items[0]!.seq === first.seq) group.push(this.pop()!)
    return group
  }
}
