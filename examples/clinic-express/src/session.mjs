// The scripted session the demo and the tests drive against a running clinic API (Express or
// Nest): a clinician logs in, reads records, searches with PHI in the query string, changes a
// phone number; someone mistypes a password; the front desk tries a read it may not do; logout.
import { PATIENTS } from './seed.mjs'

const HOUSE = { username: 'gregory.house', password: 'vicodin-and-lupus' }
const FRONT_DESK = { username: 'front.desk', password: 'appointments-only' }

/** Values the session sends that are PHI or secrets; none may appear in the audit log. */
export const NEW_PHONE = '(857) 555-0187'
export const NEW_ADDRESS = '12 Prospect Hill Road, Lexington, MA 02421'
export const WRONG_PASSWORD = 'Tr0ub4dor&3-nakamura'
export const MISTYPED_USERNAME = 'harriet.nakamura@example.net'

/** Every identifier the session plants (seed PHI, what it types in, credentials). */
export function plantedSecrets() {
  const values = []
  for (const p of PATIENTS) {
    values.push(p.mrn, p.givenName, p.familyName, p.dob, p.ssn, p.email, p.phone, p.address)
    values.push(p.ssn.replaceAll('-', '')) // the same SSN without separators
  }
  values.push(NEW_PHONE, NEW_ADDRESS, WRONG_PASSWORD, MISTYPED_USERNAME, HOUSE.password, FRONT_DESK.password)
  return values
}

/**
 * Runs the session. `say(text)` narrates each step (the demo prints it). Returns the steps with
 * their HTTP status and the bearer tokens used, so callers can also check that no token is logged.
 */
export async function runSession(baseUrl, { say = () => {} } = {}) {
  const steps = []
  const tokens = []
  const call = async (label, method, path, { token, body, headers = {}, expect } = {}) => {
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
        'user-agent': 'clinic-demo/1.0 (scripted session)',
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    const json = text ? safeJson(text) : undefined
    steps.push({ label, method, path, status: res.status })
    say(
      `${method.padEnd(5)} ${path.length > 60 ? `${path.slice(0, 57)}...` : path} -> ${res.status}  (${label})`,
    )
    if (expect !== undefined && res.status !== expect) {
      throw new Error(
        `clinic session: ${label}: expected HTTP ${expect}, got ${res.status}: ${text.slice(0, 200)}`,
      )
    }
    return json
  }

  const login = await call('clinician logs in', 'POST', '/auth/login', { body: HOUSE, expect: 200 })
  const token = login.access_token
  tokens.push(token)

  const [nakamura] = await call(
    'search by family name and date of birth (PHI in the query string)',
    'GET',
    `/patients?family_name=${encodeURIComponent(PATIENTS[0].familyName)}&dob=${PATIENTS[0].dob}`,
    { token, expect: 200 },
  )
  await call('read the record found', 'GET', `/patients/${nakamura.id}`, {
    token,
    headers: { 'x-purpose-of-use': 'treatment' },
    expect: 200,
  })
  await call(
    'look a record up by MRN (an identifier in the URL path)',
    'GET',
    `/patients/mrn/${PATIENTS[1].mrn}`,
    {
      token,
      expect: 200,
    },
  )
  await call('change the phone number and address', 'PATCH', `/patients/${nakamura.id}`, {
    token,
    body: { phone: NEW_PHONE, address: NEW_ADDRESS },
    expect: 204,
  })
  await call('failed login (wrong password, an e-mail typed as user name)', 'POST', '/auth/login', {
    body: { username: MISTYPED_USERNAME, password: WRONG_PASSWORD },
    expect: 401,
  })
  const desk = await call('front desk logs in', 'POST', '/auth/login', { body: FRONT_DESK, expect: 200 })
  tokens.push(desk.access_token)
  await call('front desk tries to read a full record (forbidden)', 'GET', `/patients/${nakamura.id}`, {
    token: desk.access_token,
    expect: 403,
  })
  await call('front desk logs out', 'POST', '/auth/logout', { token: desk.access_token, expect: 204 })
  await call('clinician logs out', 'POST', '/auth/logout', { token, expect: 204 })
  await call('the ended session is refused', 'GET', `/patients/${nakamura.id}`, { token, expect: 401 })
  return { steps, tokens, patientId: nakamura.id }
}

function safeJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
