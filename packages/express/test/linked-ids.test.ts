/**
 * Clear ids never appear next to their pseudonyms: a route parameter or an access event's resource id
 * that the app puts into an error (thrown, next(err), rejected) or a message is replaced by its
 * pseudonym in every record of that request. And one count per read with route actions.
 */
import { compilePolicy, pseudonymize } from '@boundary-audit/core'
import { describe, expect, it } from 'vitest'
import { auditMiddleware } from '../src/index'
import { capture, clearIdsNextToPseudonyms, listen, PHI, sleep, versions, waitFor } from './helpers'

const policy = compilePolicy({ pseudonymKey: 'test-pseudonym-key-0123456789' }, {})
const ps = (id: string) => pseudonymize(id, policy, 'resource')
const IDS = ['p-1001', 'c-77aa', '3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'q-5150']

function app(express: any, audit: any, rejects: boolean) {
  const a = express()
  a.use(
    auditMiddleware(audit, {
      actions: { 'GET /read/:id': 'patient-record-read', 'GET /route-only/:id': 'patient-record-read' },
    }),
  )
  a.get('/charts/:chartId', (req: any, _res: any, next: any) => {
    next(new Error(`chart ${req.params.chartId} not found`))
  })
  a.get('/patients/:id', (req: any) => {
    throw new Error(`Patient ${req.params.id} not found`)
  })
  if (rejects) {
    a.get('/async/:id', async (req: any) => {
      await sleep(1)
      throw new Error(`record ${req.params.id.toUpperCase()} is locked`)
    })
  }
  // The resource id comes from the query string, not the path: known only at the access call.
  a.get('/search', (req: any, _res: any, next: any) => {
    const pid = String(req.query.pid)
    audit.access({
      action: 'patient-record-read',
      resource: { type: 'patient', id: pid },
      outcome: 'failure',
      error: new Error(`patient ${pid} is locked`),
    })
    audit.dbQuery({ operation: 'SELECT', error: new Error(`row for ${pid} is locked`), text: 'select 1' })
    next(new Error(`search for ${pid} failed`))
  })
  a.get('/read/:id', (req: any, res: any) => {
    audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: req.params.id } })
    res.json({ ok: true })
  })
  a.get('/route-only/:id', (_req: any, res: any) => res.json({ ok: true }))
  // finalhandler prints errors to stderr unless env is 'test'
  a.set('env', 'test')
  return a
}

describe.each(versions)('%s: clear ids next to pseudonyms', (name, express) => {
  const rejects = name === 'express 5'

  it('thrown errors, next(err), async rejections and access errors carry pseudonyms, never the clear id', async () => {
    const { audit, lines, http } = capture()
    const server = await listen(app(express, audit, rejects))
    const paths = [
      `/charts/${IDS[1]}`,
      `/patients/${IDS[0]}`,
      `/patients/${IDS[2]}`,
      `/search?pid=${IDS[3]}`,
      ...(rejects ? [`/async/${IDS[0]}`] : []),
    ]
    try {
      for (const p of paths) await fetch(server.url + p).then((r) => r.arrayBuffer())
      await waitFor(() => http().length === paths.length)
    } finally {
      await server.close()
    }
    expect(clearIdsNextToPseudonyms(lines, IDS, ps)).toEqual([])
    for (const id of IDS) expect(lines.join('\n')).not.toContain(id)
    const byPath = (p: string) => http().find((e) => e.url.path.startsWith(p))
    expect(byPath('/charts/').error.message).toBe(`chart ${ps(IDS[1]!)} not found`)
    expect(byPath('/charts/').url.path).toBe(`/charts/${ps(IDS[1]!)}`)
    expect(http().find((e) => e.url.path === `/patients/${ps(IDS[2]!)}`).error.message).toBe(
      `Patient ${ps(IDS[2]!)} not found`,
    )
    // known only at the access call: the later db error and the request's error are replaced too
    const search = lines
      .map((l) => JSON.parse(l))
      .filter((e) => e.http?.request?.id === byPath('/search').http.request.id)
    expect(search.map((e) => e.error.message)).toEqual([
      `patient ${ps(IDS[3]!)} is locked`,
      `row for ${ps(IDS[3]!)} is locked`,
      `search for ${ps(IDS[3]!)} failed`,
    ])
    if (rejects) expect(byPath('/async/').error.message).toBe(`record ${ps(IDS[0]!)} is locked`)
  })

  it('one count per read: a route action names the request event only when no access event was written', async () => {
    const { audit, events } = capture()
    const server = await listen(app(express, audit, rejects))
    try {
      await fetch(`${server.url}/read/p-1`).then((r) => r.arrayBuffer())
      await fetch(`${server.url}/route-only/p-2`).then((r) => r.arrayBuffer())
      await waitFor(() => events().filter((e) => e.event.category.includes('web')).length === 2)
    } finally {
      await server.close()
    }
    const reads = events().filter((e) => e.event.action === 'patient-record-read')
    expect(reads).toHaveLength(2) // one per request, not three
    expect(reads.map((e) => e.event.category[0]).sort()).toEqual(['database', 'web'])
    const web = events().filter((e) => e.event.category.includes('web'))
    expect(web.find((e) => e.http.route === '/read/:id').event.action).toBe('http-request')
    expect(web.find((e) => e.http.route === '/route-only/:id').event.action).toBe('patient-record-read')
  })

  it('an incoming request id that holds an identifier is replaced, not written', async () => {
    const { audit, lines, http } = capture()
    const server = await listen(app(express, audit, rejects))
    const planted = [PHI.ssn, '4111111111111111', '555-867-5309', PHI.mrn, PHI.dob, '48213377']
    try {
      for (const id of planted) {
        const res = await fetch(`${server.url}/route-only/x-1`, { headers: { 'x-request-id': id } })
        await res.arrayBuffer()
        expect(res.headers.get('x-request-id')).not.toBe(id)
      }
      await waitFor(() => http().length === planted.length)
    } finally {
      await server.close()
    }
    for (const id of planted) expect(lines.join('\n')).not.toContain(id)
  })
})
