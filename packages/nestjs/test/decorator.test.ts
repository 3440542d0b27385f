import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BoundaryAuditModule } from '../src/index'
import {
  byAction,
  captureOptions,
  PSEUDONYM_KEY,
  pseudonymOf,
  startApp,
  type TestApp,
  untilHttpEvents,
} from './app'

// A medical record number in the service's own format: no built-in detector knows it.
const MRN = 'MRN-00731942'

describe('@Audit access events', () => {
  const lines: string[] = []
  let t: TestApp
  beforeAll(async () => {
    // The service's record-number format, as a detector: it catches the id where it is repeated in
    // free text (the NotFoundException message below). Path and resource ids need no detector.
    const mrn = { name: 'mrn', pattern: /MRN-\d{8}/g }
    t = await startApp(
      BoundaryAuditModule.forRoot(
        captureOptions(lines, { redaction: { pseudonymKey: PSEUDONYM_KEY, detectors: [mrn] } }),
      ),
      lines,
    )
  })
  afterAll(async () => {
    await t?.close()
  })

  let n = 0
  async function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
    const id = `dec-${++n}`
    const res = await fetch(`${t.url}${path}`, { ...init, headers: { ...init.headers, 'x-request-id': id } })
    await res.arrayBuffer()
    await untilHttpEvents(lines, 1, (r) => r === id)
    const mine = t.events().filter((e) => e.http?.request?.id === id)
    return { res, mine }
  }

  it('writes a success access event with the id pseudonymised, inside the request context', async () => {
    const { res, mine } = await call(`/patients/${MRN}`, {
      headers: { authorization: 'Bearer dr-grey:clinician' },
    })
    expect(res.status).toBe(200)
    const access = byAction(mine, 'patient-record-read')
    expect(access).toHaveLength(1)
    const e = access[0]!
    expect(e.event).toMatchObject({ outcome: 'success', type: ['access'], category: ['database'] })
    expect(e.audit.resource).toEqual({ type: 'patient', id: pseudonymOf(MRN) })
    expect(e.audit.resource.id).toMatch(/^ps_[0-9a-f]{6}_[0-9a-f]{24}$/)
    // Actor resolved from req.user when the event was written, request id from the context.
    expect(e.user.id).toBe('dr-grey')
    // The same request's http-request event uses the same pseudonym in its path.
    const [http] = byAction(mine, 'http-request')
    expect(http!.url.path).toBe(`/patients/${pseudonymOf(MRN)}`)
    expect(lines.join('')).not.toContain(MRN)
  })

  it('writes a failure access event with the error when the handler throws', async () => {
    const { res, mine } = await call(`/patients/${MRN}/missing`, {
      headers: { authorization: 'Bearer dr-grey:clinician' },
    })
    expect(res.status).toBe(404)
    const access = byAction(mine, 'patient-record-read')
    expect(access).toHaveLength(1)
    expect(access[0]!.event.outcome).toBe('failure')
    expect(access[0]!.error.type).toBe('NotFoundException')
    expect(access[0]!.audit.resource.id).toBe(pseudonymOf(MRN))
    // The exception message named the record; the log must not.
    expect(lines.join('')).not.toContain(MRN)
  })

  it('writes a failure access event when a guard rejects before the handler runs', async () => {
    const { res, mine } = await call(`/patients/${MRN}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer clerk:billing' },
    })
    expect(res.status).toBe(403)
    const access = byAction(mine, 'patient-record-delete')
    expect(access).toHaveLength(1)
    expect(access[0]!.event).toMatchObject({ outcome: 'failure', type: ['deletion'] })
    expect(access[0]!.event.reason).toMatch(/rejected before the handler ran \(HTTP 403\)/)
    expect(access[0]!.user.id).toBe('clerk')
    expect(access[0]!.audit.resource.id).toBe(pseudonymOf(MRN))
  })

  it('writes a failure access event when authentication fails (401 from the app guard)', async () => {
    const { res, mine } = await call(`/patients/${MRN}`)
    expect(res.status).toBe(401)
    const access = byAction(mine, 'patient-record-read')
    expect(access).toHaveLength(1)
    expect(access[0]!.event.outcome).toBe('failure')
    expect(access[0]!.user).toBeUndefined()
  })

  it('writes one success access event on an allowed delete', async () => {
    const { res, mine } = await call(`/patients/${MRN}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer dr-grey:clinician' },
    })
    expect(res.status).toBe(200)
    const access = byAction(mine, 'patient-record-delete')
    expect(access).toHaveLength(1)
    expect(access[0]!.event.outcome).toBe('success')
  })

  it('never writes the raw id in any line', () => {
    expect(lines.length).toBeGreaterThan(5)
    for (const line of lines) expect(line).not.toContain(MRN)
  })
})
