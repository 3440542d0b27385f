// Block and scram: what the HTTP adapters ask before running a request. State lives on the
// monitor (one per logger); every change goes through `record` so it lands in the trail.
import type { StateChange } from './records'

export interface EnforcementDeps {
  /** Writes the state change as an audit event. `operator` is true for programmatic calls. */
  record(change: StateChange, operator: boolean): void
  /** Refuse only these paths during a scram (all when undefined). */
  phiRoutes: ((path: string) => boolean) | undefined
  /** The id as records carry it (user.id after redaction), so a clear id and the trail's id match. */
  recordId(actorId: string): string
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
  /** Set by the store when it is fail-closed and cannot count. */
  storeDown = false

  constructor(private readonly deps: EnforcementDeps) {}

  get active(): boolean {
    return this.scrammed || this.storeDown || this.blocks.size > 0
  }

  block(actorId: string, seconds: number, by: string, reason: string | undefined, operator: boolean): void {
    const actor = this.deps.recordId(actorId)
    const until = Number.isFinite(seconds) ? Date.now() + seconds * 1000 : Number.POSITIVE_INFINITY
    const old = this.blocks.get(actor)
    // A block already running to a later time stays as it is (a repeat alert must not shorten it).
    if (old !== undefined && old.until >= until) return
    if (old?.timer) clearTimeout(old.timer)
    const delay = until - Date.now()
    const timer =
      Number.isFinite(delay) && delay <= MAX_TIMER_MS
        ? setTimeout(() => this.expire(actor), delay)
        : undefined
    timer?.unref()
    this.blocks.set(actor, { until, timer })
    this.deps.record({ state: 'blocked', actor, until, by, reason }, operator)
  }

  unblock(actorId: string, by: string, reason: string | undefined, operator: boolean): void {
    const actor = this.deps.recordId(actorId)
    const b = this.blocks.get(actor)
    if (b === undefined) return
    if (b.timer) clearTimeout(b.timer)
    this.blocks.delete(actor)
    this.deps.record({ state: 'unblocked', actor, by, reason }, operator)
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
    if (this.scrammed) return
    this.scrammed = true
    this.deps.record({ state: 'scram-started', by, reason }, operator)
  }

  unscram(by: string, reason: string | undefined, operator: boolean): void {
    if (!this.scrammed) return
    this.scrammed = false
    this.deps.record({ state: 'scram-ended', by, reason }, operator)
  }

  verdict(actorId: string | undefined, path: string): 0 | 403 | 503 {
    if (this.scrammed || this.storeDown) {
      const phi = this.deps.phiRoutes
      if (phi === undefined || safeTest(phi, path)) return 503
    }
    if (actorId !== undefined && this.isBlocked(actorId)) return 403
    return 0
  }

  /** Stops the expiry timers (at close). */
  stop(): void {
    for (const b of this.blocks.values()) if (b.timer) clearTimeout(b.timer)
  }
}

function safeTest(test: (path: string) => boolean, path: string): boolean {
  try {
    return test(path)
  } catch {
    return true
  }
}
