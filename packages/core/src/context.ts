import { AsyncLocalStorage } from 'node:async_hooks'
import type { Actor, AuditContext } from './types'

/** Key of a request's scope on its context object (see request-scope.ts; here to avoid an import cycle). */
export const SCOPE: unique symbol = Symbol.for('boundary-audit.request-scope')

/**
 * Per-request state. One AsyncLocalStorage per process, kept on globalThis so that the ESM and
 * CommonJS builds of this package (both may be loaded in one app) share the same context.
 */
export type ContextStore = AuditContext

const key = Symbol.for('boundary-audit.context')
const holder = globalThis as { [key]?: AsyncLocalStorage<ContextStore> }
if (!holder[key]) holder[key] = new AsyncLocalStorage<ContextStore>()
const storage: AsyncLocalStorage<ContextStore> = holder[key]

export function runWithContext<T>(context: ContextStore, fn: () => T): T {
  // Inherit what the enclosing context knows (e.g. a job inside a request keeps the request id),
  // then let the caller's fields win. A fresh object, so inner changes never leak outward.
  const parent = storage.getStore()
  const store: ContextStore = parent ? { ...parent, ...stripUndefined(context) } : { ...context }
  return storage.run(store, fn)
}

/**
 * The store runWithContext would run `context` in, except that with no enclosing context the
 * caller's object itself is the store (no copy). For the HTTP adapters, which make one context
 * object per request and keep it nowhere else; run it with runInStore.
 */
export function ownStore(context: ContextStore): ContextStore {
  const parent = storage.getStore()
  return parent ? { ...parent, ...stripUndefined(context) } : context
}

export function runInStore<T>(store: ContextStore, fn: () => T): T {
  return storage.run(store, fn)
}

export function currentContext(): ContextStore | undefined {
  return storage.getStore()
}

export function setActor(actor: Actor | undefined): void {
  const store = storage.getStore()
  if (store) store.actor = actor
}

/** The actor of the current context: an explicit one first, else the adapter's resolver. */
export function contextActor(store: ContextStore | undefined): Actor | undefined {
  if (!store) return undefined
  if (store.actor) return store.actor
  if (store.resolveActor) {
    try {
      return store.resolveActor()
    } catch {
      return undefined
    }
  }
  return undefined
}

function stripUndefined(o: ContextStore): ContextStore {
  const out: ContextStore = {}
  for (const k of Object.keys(o) as (keyof ContextStore)[]) {
    if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k]
  }
  // A request's own scope (its linked ids, see request-scope.ts) wins over an enclosing one.
  const scope = (o as Record<symbol, unknown>)[SCOPE]
  if (scope !== undefined) (out as Record<symbol, unknown>)[SCOPE] = scope
  return out
}
