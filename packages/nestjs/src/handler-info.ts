import type { AuditOptions } from './types'

/** Metadata key under which `@Audit()` stores its spec on the handler. */
export const AUDIT_ACCESS_METADATA = 'boundary-audit:access'

/** What `@Audit()` stores (internal). */
export interface AccessSpec extends AuditOptions<any> {
  action: string
}

/** What the module reads once per route handler, not per request. */
export interface HandlerInfo {
  /** `audit.handler` of the request's event: one frozen object per handler, shared by its requests. */
  readonly names: Readonly<{ controller?: string; name?: string }>
  /** The `@Audit` spec in force: the handler's own, else its controller's. */
  readonly spec: AccessSpec | undefined
}

// Per controller class, then per handler function: a method inherited by two controllers is one
// function under two classes, whose class-level `@Audit` may differ.
const cache = new WeakMap<object, WeakMap<object, HandlerInfo>>()

/**
 * The names and `@Audit` spec of a route handler, read from its decorators on first use (as
 * Nest's `Reflector.getAllAndOverride` does) and cached: decorators do not change once the class is
 * defined, and reading metadata through reflect-metadata walks prototypes on every call.
 */
export function handlerInfo(handler: Function | undefined, controller: Function | undefined): HandlerInfo {
  const byHandler = controller ? cache.get(controller) : undefined
  const known = handler ? byHandler?.get(handler) : undefined
  if (known !== undefined) return known
  const info: HandlerInfo = {
    names: Object.freeze({ controller: controller?.name, name: handler?.name }),
    spec: (metadataOf(handler) ?? metadataOf(controller)) as AccessSpec | undefined,
  }
  if (controller && handler) {
    if (byHandler) byHandler.set(handler, info)
    else cache.set(controller, new WeakMap([[handler, info]]))
  }
  return info
}

function metadataOf(target: object | undefined): unknown {
  if (target === undefined) return undefined
  const reflect = Reflect as unknown as { getMetadata?: (key: string, target: object) => unknown }
  return reflect.getMetadata?.(AUDIT_ACCESS_METADATA, target)
}
