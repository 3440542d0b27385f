/**
 * Sorts object keys by UTF-16 code units (what Array#sort does for strings, and what RFC 8785 asks
 * for), in place. Objects in log events are small, where an insertion sort beats the built-in sort's
 * setup; longer lists use the built-in one. Shared by the redaction walk (which writes sorted objects)
 * and the integrity chain's canonical form (which must agree with it).
 */
export function sortKeys(keys: string[]): string[] {
  const n = keys.length
  if (n > 16) return keys.sort()
  for (let i = 1; i < n; i++) {
    const k = keys[i]!
    let j = i - 1
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!
      j--
    }
    keys[j + 1] = k
  }
  return keys
}
