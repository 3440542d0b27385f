// The check every app test runs on the lines it captured (DESIGN.md "PHI redaction"): a pseudonym and
// its clear value never appear together. Records of one request (same http.request.id) are looked at
// together, since the request id links them; records of no request one by one. A clear id counts as
// written when it occurs as a whole token (no ASCII letter or digit on either side, case-insensitive),
// the rule core replaces by (packages/core/src/redact/linked-ids.ts).

/**
 * `[clear id, request id]` for each clear id written in a request (or a record outside any request)
 * whose records also hold its pseudonym. `pseudonymOf(id)` is the service's own pseudonym (same key).
 * @param {readonly string[]} lines
 * @param {readonly string[]} clearIds
 * @param {(id: string) => string} pseudonymOf
 * @returns {[string, string][]}
 */
export function clearIdsNextToPseudonyms(lines, clearIds, pseudonymOf) {
  /** @type {Map<string, string[]>} */
  const byRequest = new Map()
  for (const line of lines) {
    let id = '(none)'
    try {
      id = JSON.parse(line)?.http?.request?.id ?? '(none)'
    } catch {
      // not a record: still looked at on its own
    }
    byRequest.set(id, [...(byRequest.get(id) ?? []), line])
  }
  /** @type {[string, string][]} */
  const found = []
  for (const [requestId, group] of byRequest) {
    const units = requestId === '(none)' ? group : [group.join('\n')]
    for (const clear of clearIds) {
      const pseudonym = pseudonymOf(clear)
      for (const unit of units) {
        if (unit.includes(pseudonym) && hasToken(unit, clear)) {
          found.push([clear, requestId])
          break
        }
      }
    }
  }
  return found
}

/** True when `id` occurs in `text` as a whole token. */
export function hasToken(text, id) {
  const t = text.toLowerCase()
  const n = id.toLowerCase()
  for (let i = t.indexOf(n); i !== -1; i = t.indexOf(n, i + 1)) {
    if (!/[a-z0-9]/.test(t[i - 1] ?? '') && !/[a-z0-9]/.test(t[i + n.length] ?? '')) return true
  }
  return false
}
