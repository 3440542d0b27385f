import type { JWTPayload } from 'jose'

export interface WorkforceAccount {
  userId: string
  username: string
  email: string
  groups: string[]
}

/** ID-token claims as the local issuer signs them (Dex-shaped). */
export interface ClinicClaims extends JWTPayload {
  sub: string
  iss: string
  email: string
  email_verified: boolean
  groups: string[]
  preferred_username: string
  sid: string
}

export interface IdentityProvider {
  issuer: string
  audience: string
  authenticate(username: unknown, password: unknown): WorkforceAccount | undefined
  issue(account: WorkforceAccount): Promise<{ token: string; sid: string; expiresIn: number }>
  verify(token: string): Promise<ClinicClaims>
  revoke(sid: unknown): void
  discovery(): Record<string, unknown>
  jwks(): { keys: Record<string, unknown>[] }
}

export const WORKFORCE: readonly (WorkforceAccount & { password: string })[]
export function dexSubject(userId: string, connectorId?: string): string
export function createIdentityProvider(options: {
  issuer: string
  audience?: string
  ttlSeconds?: number
}): Promise<IdentityProvider>
