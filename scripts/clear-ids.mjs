// The check every app test runs on the lines it captured (DESIGN.md "PHI redaction"): a pseudonym and
// its clear value never appear together. Records of one request (same http.request.id) are looked at
// together, since the request id links them; records of no request one by one. A clear id counts as
// written when it occurs as a whole token (no ASCII letter or digit on either side, case-insensitive),
// the rule core replaces by (packages/core/src/redact/linked-ids.ts).

/**
 * Records of one request (same http.request.id) together, since the request id links them; records of
 * no request one by one. Returns `[request id, units of text]`.
 * @param {readonly string[]} lines
 * @returns {[string, string[]][]}
 */
function unitsByRequest(lines) {
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
  return [...byRequest].map(([id, group]) => [id, id === '(none)' ? group : [group.join('\n')]])
}

/**
 * `[clear id, request id]` for each clear id written in a request (or a record outside any request)
 * whose records also hold its pseudonym. `pseudonymOf(id)` is the service's own pseudonym (same key).
 * @param {readonly string[]} lines
 * @param {readonly string[]} clearIds
 * @param {(id: string) => string} pseudonymOf
 * @returns {[string, string][]}
 */
export function clearIdsNextToPseudonyms(lines, clearIds, pseudonymOf) {
  /** @type {[string, string][]} */
  const found = []
  for (const [requestId, units] of unitsByRequest(lines)) {
    for (const clear of clearIds) {
      const pseudonym = pseudonymOf(clear)
      if (units.some((unit) => unit.includes(pseudonym) && hasToken(unit, clear)))
        found.push([clear, requestId])
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

/**
 * The same check without knowing the ids: every token of a request's records (runs of letters, digits
 * and `. _ : @ -`, and their parts between separators) is pseudonymised with the service's key; a
 * token whose pseudonym is also in that request's records is a clear value next to its pseudonym.
 * Returns `[value, request id]` pairs.
 * @param {readonly string[]} lines
 * @param {(value: string) => string} pseudonymOf
 * @returns {[string, string][]}
 */
export function clearValuesNextToPseudonyms(lines, pseudonymOf) {
  /** @type {[string, string][]} */
  const found = []
  for (const [requestId, units] of unitsByRequest(lines)) {
    for (const unit of units) {
      // pseudonyms themselves are not candidates
      const text = unit.replace(/ps_(?:[0-9a-f]{6}_)?[0-9a-f]{24}/g, ' ')
      const candidates = new Set()
      for (const run of text.match(/[A-Za-z0-9._:@-]+/g) ?? []) {
        const parts = run.split(/([._:@-])/)
        // every contiguous span of parts (up to 7 parts: a UUID has 5)
        for (let i = 0; i < parts.length; i += 2) {
          let span = ''
          for (let j = i; j < parts.length && j < i + 14; j += 2) {
            span = j === i ? parts[i] : `${span}${parts[j - 1]}${parts[j]}`
            if (span.length >= 3) candidates.add(span)
          }
        }
      }
      for (const value of candidates) {
        if (unit.includes(pseudonymOf(value))) found.push([value, requestId])
      }
    }
  }
  return found
}
