/** Injection tokens of the clinic app. */
export const PG_POOL = Symbol.for('clinic.pg-pool')
export const IDENTITY = Symbol.for('clinic.identity-provider')
