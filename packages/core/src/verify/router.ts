/**
 * Hands each stream's records to its walker in seq order.
 *
 * Records of a stream normally come in the order they were written, a few shuffled by shipping:
 * they wait in a small per-stream heap and are walked as soon as their seq is next, so an export in
 * order is verified in one pass with memory per stream, not per record. A seq that does not come
 * while WINDOW later ones wait is missing (the walk goes on past it). Copies that arrive after the
 * walk passed their seq, and every record of a stream whose genesis did not come first (a shuffled
 * export), go to the late store (spill.ts) and are walked from there at the end.
 */
import type { Entry } from './entry'
import { EntryHeap } from './heap'
import type { LateStore } from './spill'
import type { StreamWalker } from './walker'

/** Records of one stream waiting for a missing seq. */
const WINDOW = 1024
/** Records waiting in all heaps together. */
const ALL_WINDOWS = 64 * 1024

interface Route {
  walker: StreamWalker
  heap: EntryHeap
  /** Walked from the late store only, at the end. */
  sorted: boolean
}

export class Router {
  private readonly routes = new Map<string, Route>()
  private waiting = 0

  constructor(
    private readonly late: LateStore,
    private readonly newWalker: (stream: string) => StreamWalker,
  ) {}

  add(e: Entry): void {
    const route = this.routeOf(e.stream)
    if (route.sorted || (route.walker.started && e.seq < route.walker.nextSeq)) {
      this.late.add(e)
      return
    }
    route.heap.push(e)
    this.waiting++
    this.drain(route, false)
    if (this.waiting > ALL_WINDOWS) this.relieve()
  }

  /** End of input: walk what waits, then the late store; returns the walkers. */
  finish(): StreamWalker[] {
    for (const route of this.routes.values()) {
      if (!route.walker.started) this.toLate(route)
      else this.drain(route, true)
    }
    let group: Entry[] = []
    const flush = () => {
      if (group.length === 0) return
      const route = this.routes.get(group[0]!.stream)!
      const s = group[0]!.seq
      if (!route.walker.started || s >= route.walker.nextSeq) route.walker.group(s, group)
      else route.walker.late(s, group)
      group = []
    }
    for (const e of this.late.sorted()) {
      const head = group[0]
      if (head && (head.stream !== e.stream || head.seq !== e.seq)) flush()
      group.push(e)
    }
    flush()
    return [...this.routes.values()].map((r) => r.walker)
  }

  private routeOf(stream: string): Route {
    let route = this.routes.get(stream)
    if (!route) {
      route = { walker: this.newWalker(stream), heap: new EntryHeap(), sorted: false }
      this.routes.set(stream, route)
    }
    return route
  }

  /** Walks the seqs that are next (all of them at the end of input, or while the window overflows). */
  private drain(route: Route, all: boolean): void {
    const w = route.walker
    if (!w.started) {
      if (route.heap.peek()!.seq === 0) this.walkGroup(route)
      else if (route.heap.size > WINDOW) this.toLate(route)
      if (!w.started) return
    }
    while (route.heap.size > 0 && (all || route.heap.peek()!.seq === w.nextSeq || route.heap.size > WINDOW)) {
      this.walkGroup(route)
    }
  }

  private walkGroup(route: Route): void {
    const group = route.heap.popGroup()
    this.waiting -= group.length
    route.walker.group(group[0]!.seq, group)
  }

  /** No genesis came first: the stream is walked in sorted order at the end. */
  private toLate(route: Route): void {
    route.sorted = true
    const waiting = route.heap.drain()
    this.waiting -= waiting.length
    for (const e of waiting) this.late.add(e)
  }

  /** Too many records wait in all heaps: the fullest gives way. */
  private relieve(): void {
    let fullest: Route | undefined
    for (const r of this.routes.values()) if (!fullest || r.heap.size > fullest.heap.size) fullest = r
    if (!fullest) return
    if (!fullest.walker.started) this.toLate(fullest)
    else while (fullest.heap.size > WINDOW / 2) this.walkGroup(fullest)
  }
}
