export function clearIdsNextToPseudonyms(
  lines: readonly string[],
  clearIds: readonly string[],
  pseudonymOf: (id: string) => string,
): [string, string][]
export function hasToken(text: string, id: string): boolean
