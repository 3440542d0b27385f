export const NEW_PHONE: string
export const NEW_ADDRESS: string
export const WRONG_PASSWORD: string
export const MISTYPED_USERNAME: string
/** Every identifier the session plants (seed PHI, what it types in, credentials). */
export function plantedSecrets(): string[]
export function runSession(
  baseUrl: string,
  options?: { say?: (text: string) => void },
): Promise<{
  steps: { label: string; method: string; path: string; status: number }[]
  tokens: string[]
  patientId: string
}>
