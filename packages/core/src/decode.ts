/** decodeURIComponent that returns its input instead of throwing on a malformed escape. */
export function safeDecode(s: string): string {
  if (s.indexOf('%') === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
