import type { CanActivate } from '@nestjs/common'
import type { ModuleRef } from '@nestjs/core'

/**
 * Moves our guard to the front of the application's global guards.
 *
 * Global guards registered with APP_GUARD run in module scan order, and the root module is scanned
 * first: an `APP_GUARD` auth guard in AppModule (the pattern Nest's docs recommend) would run, and
 * reject, before ours, and the event would lose the controller and handler names. Nest has no
 * public API to order global guards, so this reaches the application config through the module
 * reference's container. It runs from `configure()`, after the global enhancers are applied and
 * before routes (which capture the guard list) are registered. If Nest's internals ever change
 * shape, nothing breaks: our guard stays where APP_GUARD put it.
 */
export function promoteGuard(moduleRef: ModuleRef, guard: CanActivate): boolean {
  try {
    const container = (moduleRef as unknown as { container?: { applicationConfig?: unknown } }).container
    const config = container?.applicationConfig as { getGlobalGuards?: () => unknown } | undefined
    const guards = config?.getGlobalGuards?.()
    if (!Array.isArray(guards)) return false
    const index = guards.indexOf(guard)
    if (index === 0) return true
    if (index > 0) guards.splice(index, 1)
    guards.unshift(guard)
    return true
  } catch {
    return false
  }
}
