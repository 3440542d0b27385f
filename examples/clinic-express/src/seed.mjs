// Synthetic patients. Every value here is made up, but shaped like real PHI (valid-format SSNs,
// dates of birth, e-mail addresses, phone numbers, street addresses, MRNs) so that the redaction
// tests have something realistic to look for. Exported so tests can assert none of it is logged.
export const PATIENTS = [
  {
    mrn: 'MRN-0012345',
    givenName: 'Harriet',
    familyName: 'Nakamura',
    dob: '1984-03-12',
    ssn: '512-43-7788',
    email: 'harriet.nakamura@example.net',
    phone: '(617) 555-0142',
    address: '44 Linden Street, Somerville, MA 02143',
  },
  {
    mrn: 'MRN-0012346',
    givenName: 'Tobias',
    familyName: 'Okonkwo-Lindqvist',
    dob: '1951-11-02',
    ssn: '287-65-4321',
    email: 't.okonkwo@example.org',
    phone: '+1 508 555 0199',
    address: '9 Harbor View Road, Gloucester, MA 01930',
  },
  {
    mrn: 'MRN-0012347',
    givenName: 'Maribel',
    familyName: 'Quintero',
    dob: '2011-07-23',
    ssn: '431-20-9876',
    email: 'mquintero.family@example.com',
    phone: '617-555-0110',
    address: '310 Centre Avenue, Newton, MA 02458',
  },
]

/** Creates the schema (idempotent) and loads the patients if the table is empty. */
export async function migrate(client, schema) {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(
      `clinic: CLINIC_DB_SCHEMA must be a lowercase SQL identifier; got ${JSON.stringify(schema)}`,
    )
  }
  await client.query(`create schema if not exists ${schema}`)
  await client.query(`
    create table if not exists ${schema}.patients (
      id          uuid primary key default gen_random_uuid(),
      mrn         text not null unique,
      given_name  text not null,
      family_name text not null,
      dob         date not null,
      ssn         text not null,
      email       text,
      phone       text,
      address     text,
      updated_at  timestamptz not null default now()
    )`)
  const { rows } = await client.query(`select count(*)::int as n from ${schema}.patients`)
  if (rows[0].n > 0) return
  for (const p of PATIENTS) {
    await client.query(
      `insert into ${schema}.patients (mrn, given_name, family_name, dob, ssn, email, phone, address)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [p.mrn, p.givenName, p.familyName, p.dob, p.ssn, p.email, p.phone, p.address],
    )
  }
}
