/**
 * Byte buffers used again instead of allocated per segment. Segments and their results are
 * megabytes each and travel between threads (moved, not copied); allocating them afresh leaves the
 * allocator's per-thread arenas fragmented and the process's RSS growing with the input. A few are
 * kept (MAX_KEPT); beyond, they go to the collector.
 */
const MAX_KEPT = 16

export class BufferPool {
  private readonly free: ArrayBuffer[] = []

  /** A buffer of at least `bytes` (a kept one when one is large enough). */
  take(bytes: number): ArrayBuffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const b = this.free[i]!
      if (b.byteLength >= bytes) {
        this.free.splice(i, 1)
        return b
      }
    }
    // A quarter more than asked: the next segment is a little longer or shorter.
    return new ArrayBuffer(bytes + (bytes >> 2))
  }

  give(b: ArrayBuffer): void {
    if (b.byteLength > 0 && this.free.length < MAX_KEPT) this.free.push(b)
  }
}
