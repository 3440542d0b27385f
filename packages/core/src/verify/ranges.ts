/** Sorted lists of inclusive seq ranges [from, to], as the walker builds them (ascending). */
export type Range = [number, number]

/** Adds seq `s` (>= every seq already in the list) to the list. */
export function appendSeq(list: Range[], s: number): void {
  const last = list[list.length - 1]
  if (last && last[1] === s - 1) last[1] = s
  else if (!last || last[1] < s) list.push([s, s])
}

/** A cursor answering "is s in the list?" for ascending s in O(1) amortised. */
export function rangeCursor(list: readonly Range[]): (s: number) => boolean {
  let i = 0
  return (s) => {
    while (i < list.length && list[i]![1] < s) i++
    return i < list.length && list[i]![0] <= s
  }
}

/** Binary search: is s in the list? */
export function inRanges(list: readonly Range[], s: number): boolean {
  let lo = 0
  let hi = list.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const r = list[mid]!
    if (s < r[0]) hi = mid - 1
    else if (s > r[1]) lo = mid + 1
    else return true
  }
  return false
}

/** The union of two lists. */
export function unionRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const all = [...a, ...b].sort((x, y) => x[0] - y[0])
  const out: Range[] = []
  for (const [from, to] of all) {
    const last = out[out.length - 1]
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to)
    else out.push([from, to])
  }
  return out
}

/** `a` without the seqs of `b`. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = []
  let j = 0
  for (const [from0, to] of a) {
    let from = from0
    while (j < b.length && b[j]![1] < from) j++
    let k = j
    while (k < b.length && b[k]![0] <= to && from <= to) {
      const [bf, bt] = b[k]!
      if (bf > from) out.push([from, bf - 1])
      from = Math.max(from, bt + 1)
      k++
    }
    if (from <= to) out.push([from, to])
  }
  return out
}

/** Does any range of the list hold a seq strictly between a and b? */
export function anyBetween(list: readonly Range[], a: number, b: number): boolean {
  let lo = 0
  let hi = list.length - 1
  // First range that ends after a.
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (list[mid]![1] <= a) lo = mid + 1
    else hi = mid - 1
  }
  const r = list[lo]
  return r !== undefined && Math.max(r[0], a + 1) < b
}
