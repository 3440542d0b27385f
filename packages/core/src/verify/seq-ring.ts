/**
 * The values of the last `size` seqs (a power of two) of one stream: slot seq mod capacity holds
 * the highest seq written there, so a seq `size` or more below the highest is forgotten, as a
 * bounded map of recent keys would. Two arrays instead of a Map: the epoch gate writes one link per
 * record, and a Map's entry, the wrapper objects of a recency order and their promotion to the old
 * generation cost about 0.45 µs a record on the thread that walks in order (0.03 here). The arrays
 * start small and double while the seqs outgrow them (a stream of a few records holds a few slots).
 */
const FIRST_CAPACITY = 64

export class SeqRing<V> {
  // NaN: no seq (equal to none, above none).
  private seqs = new Float64Array(FIRST_CAPACITY).fill(Number.NaN)
  private values = new Array<V | undefined>(FIRST_CAPACITY).fill(undefined)
  private mask = FIRST_CAPACITY - 1

  constructor(private readonly size: number) {
    if (size < FIRST_CAPACITY || (size & (size - 1)) !== 0)
      throw new RangeError(`SeqRing size must be a power of two, at least ${FIRST_CAPACITY}`)
  }

  get(seq: number): V | undefined {
    const slot = seq & this.mask
    return this.seqs[slot] === seq ? this.values[slot] : undefined
  }

  /** Keeps `value` for `seq` unless a higher seq holds its slot (then `seq` is too old to keep). */
  set(seq: number, value: V): void {
    while (seq > this.mask && this.mask + 1 < this.size) this.grow()
    const slot = seq & this.mask
    if (this.seqs[slot]! > seq) return
    this.seqs[slot] = seq
    this.values[slot] = value
  }

  /** Twice the slots, every held seq in its new one (none collide: the capacity only grows). */
  private grow(): void {
    const { seqs, values } = this
    const capacity = seqs.length * 2
    this.seqs = new Float64Array(capacity).fill(Number.NaN)
    this.values = new Array<V | undefined>(capacity).fill(undefined)
    this.mask = capacity - 1
    for (let i = 0; i < seqs.length; i++) {
      const s = seqs[i]!
      if (Number.isNaN(s)) continue
      this.seqs[s & this.mask] = s
      this.values[s & this.mask] = values[i]
    }
  }
}
