import { spawnSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createAuditLogger } from '../src/index'
import { built } from './built'
import { capture } from './helpers'

describe('event shapes', () => {
  it('login, logout, access and event each write one ECS line with the table of DESIGN.md', () => {
    const { audit, lines, events } = capture()
    const actor = { id: 'u-1', roles: ['clinician'], domain: 'https://dex.example.org' }
    audit.login({ actor, outcome: 'success', method: 'oidc' })
    audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: 'P-778899' }, actor })
    audit.event({ action: 'export-started', category: 'file', type: 'creation', outcome: 'success', actor })
    audit.logout({ actor })
    expect(lines).toHaveLength(4)
    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true)
      expect(line.slice(0, -1)).not.toContain('\n')
    }
    const [login, access, custom, logout] = events()
    expect(login.event).toMatchObject({
      kind: 'event',
      action: 'user-login',
      category: ['authentication', 'session'],
      type: ['start'],
      outcome: 'success',
    })
    expect(logout.event).toMatchObject({
      action: 'user-logout',
      category: ['authentication', 'session'],
      type: ['end'],
    })
    expect(access.event).toMatchObject({
      action: 'patient-record-read',
      category: ['database'],
      type: ['access'],
      outcome: 'success',
    })
    expect(custom.event).toMatchObject({ action: 'export-started', category: ['file'], type: ['creation'] })
    for (const e of events()) {
      expect(e['ecs.version']).toMatch(/^8\.\d+\.\d+$/)
      expect(new Date(e['@timestamp']).toISOString()).toBe(e['@timestamp'])
      expect(e.event.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(e.service).toMatchObject({ name: 'test-svc', version: '0.0.1', environment: 'test' })
      expect(e.user).toMatchObject({ id: 'u-1', roles: ['clinician'], domain: 'https://dex.example.org' })
    }
    // The resource id is pseudonymised or masked, never in clear.
    expect(lines[1]).not.toContain('P-778899')
    expect(access.audit.resource.type).toBe('patient')
  })

  it('derives event.type from the action verb and category from the resource type', () => {
    const { audit, events } = capture()
    audit.access({ action: 'patient-record-update', resource: { type: 'patient', id: 1 } })
    audit.access({ action: 'lab-result-create', resource: { type: 'lab-result', id: 2 } })
    audit.access({ action: 'note-delete', resource: { type: 'note', id: 3 } })
    audit.access({ action: 'role-grant', resource: { type: 'role', id: 'admin' } })
    const e = events()
    expect(e.map((x) => x.event.type[0])).toEqual(['change', 'creation', 'deletion', 'access'])
    expect(e[3].event.category).toEqual(['iam'])
  })

  it('a failed login pseudonymises the typed-in identifier and never writes it', () => {
    const { audit, lines, events } = capture({ redaction: { pseudonymKey: 'k'.repeat(32) } })
    audit.login({ outcome: 'failure', reason: 'bad password', attemptedIdentifier: 'jane.doe@example.org' })
    audit.login({ outcome: 'failure', reason: 'bad password', attemptedIdentifier: 'jane.doe@example.org' })
    expect(lines.join('')).not.toContain('jane.doe')
    const [a, b] = events()
    expect(a.event.outcome).toBe('failure')
    expect(a['log.level']).toBe('warn')
    expect(a.user.name).toMatch(/^ps_[0-9a-f]{6}_[0-9a-f]{24}$/)
    // stable, so brute-force attempts on one account can be grouped
    expect(b.user.name).toBe(a.user.name)
  })

  it('http and db adapter entry points render their field sets', () => {
    const { audit, events } = capture()
    audit.httpRequest({
      method: 'get',
      route: '/patients/:id',
      path: '/patients/123',
      queryKeys: ['q', 'page'],
      statusCode: 503,
      durationNs: 1_500_000,
      requestBytes: 0,
      responseBytes: 42,
      clientIp: '10.0.0.9',
      userAgent: 'curl/8.5.0',
      requestId: 'r-1',
    })
    audit.dbQuery({
      namespace: 'clinic',
      serverAddress: '127.0.0.1',
      serverPort: 5432,
      operation: 'SELECT',
      collection: 'patients',
      text: 'SELECT * FROM patients WHERE id = $1',
      rows: 1,
      durationNs: 200_000,
      type: 'access',
      fingerprint: 'abc123',
    })
    const [http, db] = events()
    expect(http.event).toMatchObject({
      action: 'http-request',
      category: ['web'],
      type: ['error'],
      outcome: 'failure',
      duration: 1_500_000,
    })
    expect(http['log.level']).toBe('error')
    expect(http.http).toMatchObject({
      request: { method: 'GET', id: 'r-1', bytes: 0 },
      response: { status_code: 503, bytes: 42 },
      route: '/patients/:id',
    })
    expect(http.url).toEqual({ path: '/patients/123', query: 'q=&page=' })
    expect(http.source.ip).toBe('10.0.0.9')
    expect(http.user_agent.original).toBe('curl/8.5.0')
    expect(db.event).toMatchObject({
      action: 'db-query',
      category: ['database'],
      type: ['access'],
      outcome: 'success',
    })
    expect(db.db).toMatchObject({
      system: { name: 'postgresql' },
      namespace: 'clinic',
      operation: { name: 'SELECT' },
      collection: { name: 'patients' },
      query: { summary: 'SELECT patients', text: 'SELECT * FROM patients WHERE id = $1' },
      response: { returned_rows: 1 },
    })
    expect(db.server).toEqual({ address: '127.0.0.1', port: 5432 })
  })
})

describe('context', () => {
  it('500 interleaved requests each keep their own actor and request id, three awaits deep', async () => {
    const { audit, events } = capture()
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        audit.runWithContext({ requestId: `req-${i}` }, async () => {
          await sleep(Math.random() * 5)
          audit.setActor({ id: `user-${i}` })
          await sleep(Math.random() * 5)
          await (async () => {
            await sleep(Math.random() * 5)
            audit.dbQuery({ operation: 'SELECT', collection: 'patients', text: 'SELECT 1' })
          })()
          audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: i } })
        }),
      ),
    )
    const all = events()
    expect(all).toHaveLength(1000)
    for (const e of all) {
      const n = e.http.request.id.slice(4)
      expect(e.user.id).toBe(`user-${n}`)
    }
  })

  it('resolves the actor lazily when the event is written, and outside a context there is none', () => {
    const { audit, events } = capture()
    let user: { id: string } | undefined
    audit.runWithContext({ resolveActor: () => user }, () => {
      user = { id: 'late-auth' }
      audit.event({ action: 'x', category: 'process', type: 'info' })
    })
    audit.event({ action: 'y', category: 'process', type: 'info' })
    const [a, b] = events()
    expect(a.user.id).toBe('late-auth')
    expect(b.user).toBeUndefined()
    expect(audit.getContext()).toBeUndefined()
  })
})

describe('options', () => {
  it.each([
    [{ level: 'verbose' }, /level must be one of/],
    [{ destination: 42.5 }, /destination must be/],
    [{ destination: {} }, /destination must be/],
    [{ colour: true }, /unknown option "colour"/],
    [{ maxBufferBytes: 10 }, /maxBufferBytes/],
    [{ integrity: { checkpointIntervalSeconds: -1 } }, /checkpointIntervalSeconds/],
    [{ service: { name: '' } }, /service.name must be a non-empty string/],
    [{ destination: false }, /events would go nowhere/],
  ])('rejects %j at creation with a message saying what to change', (options, message) => {
    expect(() => createAuditLogger(options as never)).toThrow(message)
  })
})

describe('writer', () => {
  it('caps every line at 16 KiB, cutting the longest strings first, and marks it truncated', () => {
    const { audit, lines, events } = capture()
    const details: Record<string, string> = {}
    for (let i = 0; i < 100; i++) details[`field${i}`] = 'x'.repeat(1500 + i)
    audit.event({ action: 'big', category: 'process', type: 'info', details, message: 'y'.repeat(3000) })
    expect(lines).toHaveLength(1)
    expect(Buffer.byteLength(lines[0]!)).toBeLessThanOrEqual(16 * 1024)
    const e = events()[0]
    expect(e.audit.truncated).toBe(true)
    expect(e.event.action).toBe('big')
  })

  it('input whose getters throw writes one internal-error event naming only the error class, never throws', () => {
    const { audit, events } = capture()
    const secret = 'SSN 123-45-6789'
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new RangeError(secret)
        },
      },
    )
    expect(() => audit.access(hostile as never)).not.toThrow()
    expect(() => audit.event(hostile as never)).not.toThrow()
    const written = events()
    expect(written).toHaveLength(2)
    for (const e of written) {
      expect(e.event.action).toBe('audit-internal-error')
      expect(e.error).toEqual({ type: 'RangeError' })
      expect(e['ecs.version']).toBe('8.17.0')
      expect(e.service.name).toBe('test-svc')
    }
    expect(JSON.stringify(written)).not.toContain('123-45-6789')
  })

  it('a destination that throws never throws into the caller; drops are counted and health reported', () => {
    let fail = true
    const ok: string[] = []
    const audit = createAuditLogger({
      integrity: { enabled: false },
      destination: {
        write(line: string) {
          if (fail) throw new Error('disk full')
          ok.push(line)
        },
      },
    })
    expect(() => audit.event({ action: 'a', category: 'process', type: 'info' })).not.toThrow()
    expect(audit.stats()).toMatchObject({ dropped: 1, healthy: false })
    fail = false
    audit.event({ action: 'b', category: 'process', type: 'info' })
    expect(audit.stats()).toMatchObject({ dropped: 1, written: 1, healthy: true })
  })

  it('after close() events are dropped and counted, not thrown', async () => {
    const { audit, lines } = capture()
    audit.event({ action: 'a', category: 'process', type: 'info' })
    await audit.close()
    audit.event({ action: 'b', category: 'process', type: 'info' })
    expect(lines).toHaveLength(1)
    expect(audit.stats()).toMatchObject({ written: 1, dropped: 1, healthy: false })
  })

  it('honours the minimum level', () => {
    const { audit, lines } = capture({ level: 'warn' })
    audit.event({ action: 'quiet', category: 'process', type: 'info', outcome: 'success' })
    audit.event({ action: 'loud', category: 'process', type: 'info', outcome: 'failure' })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('loud')
  })
})

describe('pseudonym key', () => {
  const KEY = 'logger-test-pseudonym-key-0123456789'

  /** A fresh process (so no other logger's warnings mix in): its stderr and its stats(). */
  function start(redaction: string, env: NodeJS.ProcessEnv): { stderr: string; stats: any } {
    const script = `import { createAuditLogger } from ${JSON.stringify(pathToFileURL(built('index.js')).href)}
const a = createAuditLogger({ destination: { write() {} }, integrity: { enabled: false }, redaction: ${redaction} })
setTimeout(() => console.log(JSON.stringify(a.stats())), 50)`
    const { BOUNDARY_AUDIT_PSEUDONYM_KEY: _, ...rest } = process.env
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...rest, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    })
    return { stderr: r.stderr, stats: JSON.parse(r.stdout.trim().split('\n').pop() as string) }
  }

  it('without a key: one start-up warning in plain words, and stats() says masked', () => {
    // a policy that asks for pseudonyms without a key still gives one warning, not two
    const r = start(`{ mode: 'pseudonymize' }`, {})
    const warnings = r.stderr.split('\n').filter((l) => l.includes('pseudonym key'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/route parameters .* masked .*cannot say which patient a record concerns/)
    expect(warnings[0]).toMatch(/boundary-audit keygen --out DIR/)
    expect(r.stats.pseudonyms).toBe('masked')
  })

  it('with a key (the environment variable): no such warning, and stats() says keyed', () => {
    const r = start('{}', { BOUNDARY_AUDIT_PSEUDONYM_KEY: KEY })
    expect(r.stderr).not.toContain('pseudonym key')
    expect(r.stats.pseudonyms).toBe('keyed')
  })

  it('ids are masks without a key and pseudonyms naming the key with one', () => {
    const masked = capture({ redaction: { pseudonymKey: undefined } })
    const keyed = capture({ redaction: { pseudonymKey: KEY } })
    for (const { audit } of [masked, keyed])
      audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: 'p-1001' } })
    expect(masked.events()[0].audit.resource.id).toBe('[REDACTED:resource]')
    expect(keyed.events()[0].audit.resource.id).toMatch(/^ps_[0-9a-f]{6}_[0-9a-f]{24}$/)
  })
})

describe('actor of an event', () => {
  it('login({ actor: { id } }) after setActor({ id, roles, domain }) keeps roles and issuer; another id does not merge', () => {
    const { audit, events } = capture()
    audit.runWithContext({}, () => {
      audit.setActor({ id: 'u-1', roles: ['clinician'], domain: 'https://idp.example.org' })
      audit.login({ actor: { id: 'u-1' }, outcome: 'success', method: 'password' })
      audit.login({ actor: { id: 'u-2' }, outcome: 'success' })
      audit.logout({ actor: { id: 'u-1', roles: ['admin'] } })
    })
    const [a, b, c] = events()
    expect(a.user).toEqual({ id: 'u-1', roles: ['clinician'], domain: 'https://idp.example.org' })
    expect(b.user).toEqual({ id: 'u-2' })
    expect(c.user).toEqual({ id: 'u-1', roles: ['admin'], domain: 'https://idp.example.org' })
  })
})
