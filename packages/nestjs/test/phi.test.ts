import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, startApp, type TestApp, untilHttpEvents } from './app'

// Identifiers planted in every part of the requests. None may reach any line, in any form.
const SSN = '123-45-6789'
const EMAIL = 'jane.doe@example.com'
const PHONE = '(555) 867-5309'
const NAME = 'Jane Quintessa Doe'
const DOB = '1970-03-14'
const NOTE = 'complains of chest pain since Tuesday'
const PLANTED = [SSN, '123456789', EMAIL, encodeURIComponent(EMAIL), PHONE, '555-867-5309', NAME, DOB, NOTE]

describe('PHI in params, query, body and headers', () => {
  const lines: string[] = []
  let t: TestApp
  beforeAll(async () => {
    t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines)
  })
  afterAll(async () => {
    await t?.close()
  })

  const auth = { authorization: `Bearer dr-who:clinician` }
  const send = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${t.url}${path}`, init)
    await res.arrayBuffer()
    return res.status
  }

  it('keeps planted identifiers out of every line', async () => {
    const query = new URLSearchParams({ ssn: SSN, email: EMAIL, phone: PHONE, q: NAME, dob: DOB }).toString()
    const statuses = await Promise.all([
      // Route parameters: matched routes (pseudonymised as parameters), and a route that 404s.
      send(`/patients/${SSN}`, { headers: auth }),
      send(`/patients/${encodeURIComponent(EMAIL)}`, { headers: auth }),
      send(`/public/${encodeURIComponent(PHONE)}`),
      send(`/patients/${SSN}/crash`, { headers: auth }),
      send(`/patients/${SSN}/missing`, { headers: auth }),
      send(`/no-such-route/${SSN}/${encodeURIComponent(EMAIL)}`),
      // Query strings.
      send(`/patients/42?${query}`, { headers: auth }),
      send(`/public/x?${query}`),
      // Bodies: accepted, rejected by the pipe (its message echoes the body), and malformed JSON.
      send(`/patients/42/notes`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          text: NOTE,
          patientName: NAME,
          ssn: SSN,
          dob: DOB,
          email: EMAIL,
          phone: PHONE,
        }),
      }),
      send(`/patients/42/notes`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ ssn: SSN, email: EMAIL, phone: PHONE }),
      }),
      send(`/patients/42/notes`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: `{"ssn": "${SSN}", "email": "${EMAIL}"`,
      }),
      // Credentials and identity headers that are not trusted.
      send(`/patients/42`, {
        headers: {
          authorization: `Bearer dr-who:clinician`,
          cookie: `session=${EMAIL}`,
          'x-forwarded-user': EMAIL,
          'x-patient-name': NAME,
        },
      }),
    ])
    expect(statuses).toEqual([200, 200, 200, 500, 404, 404, 200, 200, 201, 400, 400, 200])
    await untilHttpEvents(lines, statuses.length)

    const http = byAction(t.events(), 'http-request')
    expect(http).toHaveLength(statuses.length)
    const all = lines.join('')
    for (const value of PLANTED) expect(all, `"${value}" leaked`).not.toContain(value)
    // The query string keeps its keys only.
    expect(http.some((e) => e.url?.query === 'ssn=&email=&phone=&q=&dob=')).toBe(true)
  })
})
