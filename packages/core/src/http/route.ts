import { safeDecode } from '../decode'
/** Longest route template kept. */
export const MAX_ROUTE_LENGTH = 512

/**
 * A framework's route path as a template string: strings as written (`/patients/:id`), regular
 * expressions as their source, arrays joined with `,`. Anything else gives undefined.
 */
export function routeTemplate(path: unknown): string | undefined {
  if (typeof path === 'string') return path
  if (path instanceof RegExp) return String(path)
  if (Array.isArray(path)) {
    const parts = path.map(routeTemplate).filter((p): p is string => p !== undefined)
    return parts.length > 0 ? parts.join(',') : undefined
  }
  return undefined
}

/** Joins a mount prefix and a route path with exactly one `/` between them and no trailing one. */
export function joinRoute(base: string | undefined, path: string | undefined): string {
  const b = base && base !== '/' ? base.replace(/\/+$/, '') : ''
  let p = path ?? ''
  if (p.length > 0 && p.charCodeAt(0) !== 47 /* / */ && !p.startsWith('/^')) p = `/${p}`
  if (p === '/' && b.length > 0) p = ''
  const joined = b + p || '/'
  return joined.length > MAX_ROUTE_LENGTH ? joined.slice(0, MAX_ROUTE_LENGTH) : joined
}

/**
 * Turns an actual mount path back into a template: each path segment equal to a captured parameter
 * value (raw or percent-decoded) becomes `:name`. Used for routers mounted under parameters
 * (`app.use('/patients/:pid/notes', router)`), whose matched prefix holds real values.
 */
export function templatize(actual: string, params: ReadonlyMap<string, string> | undefined): string {
  if (!params || params.size === 0 || actual.length === 0) return actual
  const segments = actual.split('/')
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string
    if (seg.length === 0) continue
    const name = params.get(seg) ?? params.get(safeDecode(seg))
    if (name !== undefined) segments[i] = `:${name}`
  }
  return segments.join('/')
}
