// What one request (or one runWithContext scope) remembers across its records: the clear ids it
// pseudonymised (so they are replaced wherever else they occur in its records, see
// redact/linked-ids.ts) and the actions of the access events it wrote (so a route action does not
// count a read twice, see http/exchange.ts). It lives on the request's context object (AsyncLocalStorage), never in
// module scope: two requests never see each other's ids.
import { SCOPE } from './context'
import { pseudonymize } from './redact/index'
import { LinkedIds } from './redact/linked-ids'
import type { Policy } from './redact/policy'
import type { AuditContext } from './types'

export { SCOPE }

type ParamsReader = (req: any) => readonly string[] | undefined

export class RequestScope {
  readonly ids = new LinkedIds()
  /** Actions of the access events (audit.access) written inside this scope, as written. */
  private accessActions: string[] | undefined

  /** Notes an access event's action (a request writes few: a short list, bounded). */
  noteAccess(action: unknown): void {
    if (typeof action !== 'string') return
    this.accessActions ??= []
    if (this.accessActions.length < 32 && !this.accessActions.includes(action))
      this.accessActions.push(action)
  }

  /** True when an access event of `action` was written inside this scope. */
  wroteAccess(action: string): boolean {
    return this.accessActions?.includes(action) === true
  }
  private readonly readParams: ParamsReader | undefined
  private readonly req: unknown

  /** The HTTP request this scope belongs to (undefined for a runWithContext scope). */
  get request(): unknown {
    return this.req
  }

  /** `readParams(req)` gives the route parameters the framework has matched by now (read lazily). */
  constructor(readParams?: ParamsReader, req?: unknown) {
    this.readParams = readParams
    this.req = req
  }

  /** The linked ids, including the route parameters known by now, pseudonymised under `policy`. */
  current(policy: Policy): LinkedIds {
    if (this.readParams !== undefined) {
      let params: readonly string[] | undefined
      try {
        params = this.readParams(this.req)
      } catch {
        params = undefined
      }
      if (Array.isArray(params)) {
        for (let i = 0; i < params.length && i < 32; i++) this.addParam(params[i], policy)
      }
    }
    return this.ids
  }

  /** A route parameter's replacement in url.path: its pseudonym, computed once per request. */
  addParam(value: unknown, policy: Policy): string | undefined {
    if (typeof value !== 'string' || value.length === 0 || value.length > 512) return undefined
    const known = this.ids.replacementOf(value)
    if (known !== undefined) return known
    const replacement = pseudonymize(value, policy, 'resource')
    this.ids.add(value, replacement)
    return replacement
  }
}

/** The scope of a context, if it has one. */
export function scopeOf(ctx: AuditContext | undefined): RequestScope | undefined {
  if (ctx === undefined || ctx === null) return undefined
  const s = (ctx as { [SCOPE]?: RequestScope })[SCOPE]
  // Duck-typed: the ESM and CommonJS builds of core share one context store but not one class.
  return s !== undefined && s !== null && typeof s.current === 'function' ? s : undefined
}

/** The scope of a context, made on first use (a runWithContext scope gets one on its first access event). */
export function ensureScope(ctx: AuditContext): RequestScope {
  const existing = scopeOf(ctx)
  if (existing) return existing
  const scope = new RequestScope()
  ;(ctx as { [SCOPE]?: RequestScope })[SCOPE] = scope
  return scope
}
