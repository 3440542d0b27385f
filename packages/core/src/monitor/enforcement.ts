// Block and scram: what the HTTP adapters ask before running a request. State lives on the
// monitor (one per logger); every change goes through `record` so it lands in the trail. With a
// shared store, changes made here are announced to the other replicas (`share`) and theirs applied
// here (`applyShared`): a block or a scram holds on every replica behind the load balancer, each
// replica writing the change into its own trail when it starts to enforce it.
import type { StateChange } from './records'

export interface EnforcementDeps {
  /** Writes the state change as an audit event. `operator` is true for programmatic calls. */
  record(change: StateChange, operator: boolean): void
  /** Refuse only these paths during a scram (all but the open routes when undefined). */
  phiRoutes: ((path: string) => boolean) | undefined
  /** Never refused by a scram (health and readiness probes, metrics). */
  openRoutes: (path: string) => boolean
  /** The id as records carry it (user.id after redaction), so a clear id and the trail's id match. */
  recordId(actorId: string): string
  /** Announces a change made here to the other replicas (shared store); not for expiries. */
  share?: (change: StateChange) => void
}

interface Block {
  until: number
  timer: NodeJS.Timeout | undefined
}

/** Longest a timer can wait (setTimeout's limit); longer blocks are checked when asked. */
const MAX_TIMER_MS = 2_147_483_647

export class Enforcement {
  private readonly blocks = new Map<string, Block>()
  scrammed = false
  /**
   * When (performance.now()) each actor's block, and the scram (key ''), last changed here: a
   * snapshot of the shared state asked for before that is older than what this replica knows.
   */
  private readonly changedAt = new Map<string, number>()
  /** Set by the store when it is fail-closed and cannot count. */
  storeDown = false

  constructor(private readonly deps: EnforcementDeps) {}

  get active(): boolean {
    return this.scrammed || this.storeDown || this.blocks.size > 0
  }

  block(actorId: string, seconds: number, by: string, reason: string | undefined, operator: boolean): void {
    const actor = this.deps.recordId(actorId)
    const until = Number.isFinite(seconds) ? Date.now() + seconds * 1000 : Number.POSITIVE_INFINITY
    const change: StateChange = { state: 'blocked', actor, until, by, reason }
    if (this.setBlock(change, operator)) this.deps.share?.(change)
  }

  /** Sets a block unless one already runs to a later time (a repeat alert must not shorten it). */
  private setBlock(change: StateChange & { state: 'blocked' }, operator: boolean): boolean {
    const { actor, until } = change
    if (!(until > Date.now())) return false
    const old = this.blocks.get(actor)
    if (old !== undefined && old.until >= until) return false
    if (old?.timer) clearTimeout(old.timer)
    const delay = until - Date.now()
    const timer =
      Number.isFinite(delay) && delay <= MAX_TIMER_MS
        ? setTimeout(() => this.expire(actor), delay)
        : undefined
    timer?.unref()
    this.blocks.set(actor, { until, timer })
    this.changedAt.set(actor, performance.now())
    this.deps.record(change, operator)
    return true
  }

  unblock(actorId: string, by: string, reason: string | undefined, operator: boolean): void {
    const change: StateChange = { state: 'unblocked', actor: this.deps.recordId(actorId), by, reason }
    // Announced even when this replica holds no such block: another replica may.
    this.clearBlock(change, operator)
    this.deps.share?.(change)
  }

  private clearBlock(change: StateChange & { state: 'unblocked' }, operator: boolean): boolean {
    const b = this.blocks.get(change.actor)
    if (b === undefined) return false
    if (b.timer) clearTimeout(b.timer)
    this.blocks.delete(change.actor)
    this.changedAt.set(change.actor, performance.now())
    this.deps.record(change, operator)
    return true
  }

  private expire(actor: string): void {
    const b = this.blocks.get(actor)
    if (b === undefined || b.until > Date.now()) return
    this.blocks.delete(actor)
    this.deps.record({ state: 'unblocked', actor, by: 'expiry', reason: 'the block ran out' }, false)
  }

  isBlocked(actorId: string): boolean {
    if (this.blocks.size === 0) return false
    const actor = this.deps.recordId(actorId)
    const b = this.blocks.get(actor)
    if (b === undefined) return false
    if (b.until <= Date.now()) {
      this.expire(actor)
      return false
    }
    return true
  }

  blocked(): { actor: string; until: number }[] {
    const now = Date.now()
    return [...this.blocks].filter(([, b]) => b.until > now).map(([actor, b]) => ({ actor, until: b.until }))
  }

  scram(by: string, reason: string | undefined, operator: boolean): void {
    if (this.setScram({ state: 'scram-started', by, reason }, operator))
      this.deps.share?.({ state: 'scram-started', by, reason })
  }

  unscram(by: string, reason: string | undefined, operator: boolean): void {
    this.setScram({ state: 'scram-ended', by, reason }, operator)
    // Announced even when this replica is not scrammed: another replica may be.
    this.deps.share?.({ state: 'scram-ended', by, reason })
  }

  private setScram(change: StateChange, operator: boolean): boolean {
    const on = change.state === 'scram-started'
    if (this.scrammed === on) return false
    this.scrammed = on
    this.changedAt.set('', performance.now())
    this.deps.record(change, operator)
    return true
  }

  /**
   * Changes made by other replicas (`by` becomes `replica:<their by>` in this trail). With `since`,
   * the list is the entire shared state as read after that time (performance.now()) following a
   * (re)connect: what this replica enforces and the list lacks was lifted elsewhere meanwhile,
   * unless it changed here after the read was asked for (an announcement can overtake the read).
   */
  applyShared(changes: readonly StateChange[], since?: number): void {
    const stale = (key: string) => since !== undefined && (this.changedAt.get(key) ?? -1) >= since
    const seen = new Set<string>()
    let scram = false
    for (const c of changes) {
      const by = c.by.startsWith('replica:') ? c.by : `replica:${c.by}`
      if (c.state === 'blocked') {
        seen.add(c.actor)
        if (!stale(c.actor)) this.setBlock({ ...c, by }, false)
      } else if (c.state === 'unblocked') {
        if (!stale(c.actor)) this.clearBlock({ ...c, by }, false)
      } else {
        scram ||= c.state === 'scram-started'
        if (!stale('')) this.setScram({ ...c, by }, false)
      }
    }
    if (since === undefined) return
    for (const actor of [...this.blocks.keys()])
      if (!seen.has(actor) && !stale(actor))
        this.clearBlock(
          { state: 'unblocked', actor, by: 'replica', reason: 'lifted on another replica' },
          false,
        )
    if (!scram && !stale(''))
      this.setScram({ state: 'scram-ended', by: 'replica', reason: 'ended on another replica' }, false)
    // What changed before the read is in it: those times are no longer needed.
    for (const [key, at] of this.changedAt) if (at < since) this.changedAt.delete(key)
  }

  /**
   * `reachesPhi`: the adapter knows the handler reads or writes records of individuals (a Nest
   * handler marked @Audit); such a request is refused during a scram whatever its path.
   */
  verdict(actorId: string | undefined, path: string, reachesPhi?: boolean): 0 | 403 | 503 {
    if (this.scrammed || this.storeDown) {
      if (reachesPhi === true) return 503
      // Unknown routes count as PHI routes: the SDK cannot tell a route that never reaches PHI
      // from one that reads it without writing an access event.
      const phi = this.deps.phiRoutes
      if (!safeTest(this.deps.openRoutes, path, false) && (phi === undefined || safeTest(phi, path, true)))
        return 503
    }
    if (actorId !== undefined && this.isBlocked(actorId)) return 403
    return 0
  }

  /** Stops the expiry timers (at close). */
  stop(): void {
    for (const b of this.blocks.values()) if (b.timer) clearTimeout(b.timer)
  }
}

function safeTest(test: (path: string) => boolean, path: string, onError: boolean): boolean {
  try {
    return test(path)
  } catch {
    return onError
  }
}
