export function clearIdsNextToPseudonyms(
  lines: readonly string[],
  clearIds: readonly string[],
  pseudonymOf: (id: string) => string,
): [string, string][]
export function hasToken(text: string, id: string): boolean
export function clearValuesNextToPseudonyms(
  lines: readonly string[],
  pseudonymOf: (value: string) => string,
): [string, string][]
