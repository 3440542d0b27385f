// Types for scripts/bench-floor.mjs.
export const EXPRESS_AUDIT_PAD: number
/** The floor case `kase` (floor-*) as an Express-style middleware; throws on an unknown case. */
export function createFloorMiddleware(
  kase: string,
  options?: { padBytes?: number },
): Promise<(req: any, res: any, next: (err?: unknown) => void) => void>
/** Links every line written to `stream` by one SHA-256 of the previous link and the line. */
export function linkLines(stream: { write(line: string): unknown }): void
