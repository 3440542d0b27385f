import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clearIdsNextToPseudonyms } from '../../../scripts/clear-ids.mjs'
import { BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, pseudonymOf, startApp, type TestApp, until, untilHttpEvents } from './app'

// Opaque ids in route parameters: no detector knows them; they must not appear next to their pseudonyms.
const IDS = ['p-1001', 'c-77aa', '3f2504e0-4f89-41d3-9a0c-0305e82c3301']

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

  it('NotFoundException, a thrown Error and an async HttpException carry pseudonyms, never the clear id', async () => {
    const paths = [`/patients/${IDS[0]}/missing`, `/patients/${IDS[1]}/crash`, `/patients/${IDS[2]}/locked`]
    const statuses: number[] = []
    for (const [i, p] of paths.entries()) {
      const res = await fetch(t.url + p, {
        headers: { authorization: 'Bearer dr-who:clinician', 'x-request-id': `linked-${i}` },
      })
      await res.arrayBuffer()
      statuses.push(res.status)
    }
    expect(statuses).toEqual([404, 500, 409])
    const mine = () => t.events().filter((e) => String(e.http?.request?.id).startsWith('linked-'))
    await until(() => byAction(mine(), 'http-request').length >= 3, 'three request events')
    expect(clearIdsNextToPseudonyms(lines, IDS, pseudonymOf)).toEqual([])
    for (const id of IDS) expect(lines.join('\n')).not.toContain(id)
    const http = byAction(mine(), 'http-request')
    const at = (i: number) => http.find((e) => e.http.request.id === `linked-${i}`)!
    expect(at(0).error.message).toBe(`patient ${pseudonymOf(IDS[0]!)} not found`)
    expect(at(1).error.message).toBe(`lookup failed for patient ${pseudonymOf(IDS[1]!)}`)
    expect(at(2).error.message).toBe(`chart of ${pseudonymOf(IDS[2]!)} is locked`)
    const reads = byAction(mine(), 'patient-record-read')
    expect(reads.map((e) => e.error?.message).sort()).toEqual(
      [`chart of ${pseudonymOf(IDS[2]!)} is locked`, `patient ${pseudonymOf(IDS[0]!)} not found`].sort(),
    )
  })

  it('a 404 for an unknown route has no http.route (not the module wildcard)', async () => {
    const res = await fetch(`${t.url}/no-such-route/here`, { headers: { 'x-request-id': 'r-404' } })
    await res.arrayBuffer()
    expect(res.status).toBe(404)
    await until(() => t.events().some((e) => e.http?.request?.id === 'r-404'), 'the 404 request event')
    const event = t.events().find((e) => e.http?.request?.id === 'r-404')!
    expect(event.http.route).toBeUndefined()
    expect(event.message).toBe('GET /no-such-route/here 404')
  })
})
