import type { ModuleRef } from '@nestjs/core'

/**
 * Puts the module's global enhancers where they must be in the application's lists:
 * - `first` (the handler guard) at the front of the global guards. Global guards registered with
 *   APP_GUARD run in module scan order, and the root module is scanned first: an `APP_GUARD` auth
 *   guard in AppModule (the pattern Nest's docs recommend) would run, and reject, before ours, and
 *   the event would lose the controller and handler names.
 * - `last` (the enforcement guard) at the end of the global guards, after the app's global auth
 *   guards have set the actor.
 * - `filter` (the error-noting filter) at the end of the global filters, which Nest consults last
 *   to first: before any global filter the app added with `useGlobalFilters()`.
 * Nest has no public API to order global enhancers, so this reaches the application config through
 * the module reference's container. It runs from `configure()`, after the global enhancers are
 * applied and before routes (which capture the lists) are registered. If Nest's internals ever
 * change shape, nothing breaks: the enhancers stay where APP_GUARD and APP_FILTER put them.
 */
export function placeGlobalEnhancers(
  moduleRef: ModuleRef,
  enhancers: { first: object; last: object; filter: object },
): boolean {
  try {
    const container = (moduleRef as unknown as { container?: { applicationConfig?: unknown } }).container
    const config = container?.applicationConfig as
      | { getGlobalGuards?: () => unknown; getGlobalFilters?: () => unknown }
      | undefined
    const guards = config?.getGlobalGuards?.()
    const filters = config?.getGlobalFilters?.()
    if (!Array.isArray(guards) || !Array.isArray(filters)) return false
    move(guards, enhancers.first, 'front')
    move(guards, enhancers.last, 'back')
    move(filters, enhancers.filter, 'back')
    return true
  } catch {
    return false
  }
}

function move(list: unknown[], item: object, to: 'front' | 'back'): void {
  const index = list.indexOf(item)
  if (index !== -1) list.splice(index, 1)
  if (to === 'front') list.unshift(item)
  else list.push(item)
}
