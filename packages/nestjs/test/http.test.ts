import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, settle, startApp, type TestApp } from './app'

const SSN = '123-45-6789'
const PATIENT = 'PT-8675309'

describe('http-request events', () => {
  const lines: string[] = []
  let t: TestApp
  beforeAll(async () => {
    t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines)
  })
  afterAll(async () => {
    await t?.close()
  })

  const get = (path: string, init: RequestInit = {}) => fetch(`${t.url}${path}`, init)
  const eventFor = (requestId: string) =>
    byAction(t.events(), 'http-request').filter((e) => e.http?.request?.id === requestId)

  it('names the controller and handler on a successful request', async () => {
    const res = await get(`/patients/${PATIENT}`, {
      headers: { authorization: 'Bearer dr-house:clinician', 'x-request-id': 'ok-1' },
    })
    expect(res.status).toBe(200)
    await settle()
    const [e, ...rest] = eventFor('ok-1')
    expect(rest).toHaveLength(0)
    console.log(JSON.stringify(e, null, 1))
    expect(e.audit.handler).toEqual({ controller: 'PatientsController', name: 'findOne' })
    expect(e.event.outcome).toBe('success')
    expect(e.http.route).toBe('/patients/:id')
    expect(e.user.id).toBe('dr-house')
  })
})
