export interface SeedPatient {
  mrn: string
  givenName: string
  familyName: string
  dob: string
  ssn: string
  email: string
  phone: string
  address: string
}

export const PATIENTS: readonly SeedPatient[]
/** Creates the schema (idempotent) and loads the patients if the table is empty. */
export function migrate(
  client: { query(text: string, values?: unknown[]): Promise<any> },
  schema: string,
): Promise<void>
