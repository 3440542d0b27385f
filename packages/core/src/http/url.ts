/** Most query-string keys kept per request, and most characters per key. */
export const MAX_QUERY_KEYS = 32
export const MAX_QUERY_KEY_LENGTH = 64

/**
 * Splits a request target into its path and query string, dropping any fragment. Absolute-form
 * targets (`http://host/path`, sent to proxies) lose their scheme and authority.
 */
export function splitUrl(url: string | undefined): { path: string; query: string | undefined } {
  if (!url) return { path: '/', query: undefined }
  let target = url
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target)
    if (scheme) target = target.slice(scheme[0].length) || '/'
  }
  const hash = target.indexOf('#')
  if (hash !== -1) target = target.slice(0, hash)
  const q = target.indexOf('?')
  if (q === -1) return { path: target, query: undefined }
  return { path: target.slice(0, q) || '/', query: target.slice(q + 1) }
}

/**
 * The distinct keys of a query string, in order of first appearance. Values are never returned:
 * `?ssn=123-45-6789&name=Jane` gives `['ssn', 'name']`.
 */
export function queryKeys(query: string | undefined): string[] | undefined {
  if (!query) return undefined
  const keys: string[] = []
  for (const part of query.split('&')) {
    if (part.length === 0) continue
    const eq = part.indexOf('=')
    let key = eq === -1 ? part : part.slice(0, eq)
    if (key.length === 0) continue
    key = decodeKey(key)
    if (key.length > MAX_QUERY_KEY_LENGTH) key = key.slice(0, MAX_QUERY_KEY_LENGTH)
    if (!keys.includes(key)) keys.push(key)
    if (keys.length >= MAX_QUERY_KEYS) break
  }
  return keys.length > 0 ? keys : undefined
}

function decodeKey(key: string): string {
  const plain = key.replace(/\+/g, ' ')
  if (plain.indexOf('%') === -1) return plain
  try {
    return decodeURIComponent(plain)
  } catch {
    return plain
  }
}
