import { describe, expect, it } from 'vitest'
import { createAuditLogger, generateVerifierKeyPair, verifyText } from '../src/index'
import { capture, readPatient } from './helpers'

const KEY = 'monitor-test-pseudonym-key-0123456789'

function keyed(monitor: unknown) {
  return capture({ redaction: { pseudonymKey: KEY }, monitor: monitor as never })
}

const alerts = (events: any[]) => events.filter((e) => e.event.kind === 'alert')

describe('privacy monitor rules (live)', () => {
  it('breadth: one alert when an actor reaches more than N distinct individuals; clear ids never appear', () => {
    const { audit, events, lines } = keyed({ breadth: { threshold: 3, windowSeconds: 60 } })
    const actor = { id: 'dr-bulk', roles: ['clerk'] }
    for (let i = 0; i < 10; i++) {
      readPatient(audit, actor, `MRN-${1000 + i}`)
      // Repeats of the same patient do not count twice.
      readPatient(audit, actor, `MRN-${1000 + i}`)
    }
    const a = alerts(events())
    expect(a).toHaveLength(1)
    expect(a[0].event.action).toBe('access-anomaly')
    expect(a[0].rule.name).toBe('breadth')
    expect(a[0].user.id).toBe('dr-bulk')
    expect(a[0].audit.monitor).toMatchObject({ rule: 'breadth', actor: 'dr-bulk', count: 4, threshold: 3 })
    expect(a[0].audit.monitor.window.seconds).toBe(60)
    // The alert follows the 4th distinct individual's access record.
    const idx = events().findIndex((e) => e.event.kind === 'alert')
    expect(
      events()
        .slice(0, idx)
        .filter((e) => e.event.action === 'patient-record-read'),
    ).toHaveLength(7)
    for (const line of lines) expect(line).not.toMatch(/MRN-10/)
  })

  it('rate: more than N records per actor per window', () => {
    const { audit, events } = keyed({ breadth: false, rate: { threshold: 5, windowSeconds: 60 } })
    for (let i = 0; i < 8; i++) {
      readPatient(audit, 'u1', 'P1')
    }
    const a = alerts(events())
    expect(a.map((e) => e.rule.name)).toEqual(['rate'])
    expect(a[0].audit.monitor.count).toBe(6)
  })

  it('watched individuals: by clear id (pseudonymised at start) or by pseudonym; exempt roles', () => {
    const probe = keyed(false)
    readPatient(probe.audit, 'x', 'VIP-2')
    const vip2 = probe.events()[0].audit.resource.id as string
    expect(vip2).toMatch(/^ps_/)

    const { audit, events, lines } = keyed({
      watched: { ids: ['VIP-1'], pseudonyms: [vip2], exemptRoles: ['privacy-office'] },
    })
    readPatient(audit, 'nurse-1', 'VIP-1')
    readPatient(audit, 'nurse-2', 'VIP-2')
    readPatient(audit, 'nurse-3', 'OTHER')
    readPatient(audit, { id: 'po-1', roles: ['privacy-office'] }, 'VIP-1')
    const a = alerts(events())
    expect(a.map((e) => [e.rule.name, e.user.id])).toEqual([
      ['watched', 'nurse-1'],
      ['watched', 'nurse-2'],
    ])
    expect(a[1].audit.monitor.individual).toBe(vip2)
    for (const line of lines) expect(line).not.toMatch(/VIP-1/)
  })

  it('emergency access without a reason alerts; with a reason it does not', () => {
    const { audit, events } = keyed({})
    readPatient(audit, 'er-1', 'P1', { purpose: 'Break-The-Glass', reason: 'unconscious patient in ED' })
    readPatient(audit, 'er-2', 'P2', { purpose: 'break_the_glass' })
    // The same texts again (their reading is remembered), other purposes, and more distinct texts
    // than are remembered: the same answers.
    readPatient(audit, 'er-3', 'P3', { purpose: 'break_the_glass' })
    readPatient(audit, 'er-4', 'P4', { purpose: 'Break-The-Glass', reason: 'code blue' })
    for (let i = 0; i < 300; i++) readPatient(audit, 'doc', 'P5', { purpose: `treatment-${i}` })
    readPatient(audit, 'er-5', 'P6', { purpose: 'BTG' })
    readPatient(audit, 'er-6', 'P7', { purpose: 'treatment-7' })
    const a = alerts(events())
    expect(a.map((e) => [e.rule.name, e.user.id])).toEqual([
      ['emergency', 'er-2'],
      ['emergency', 'er-3'],
      ['emergency', 'er-5'],
    ])
    expect(a[0].event.reason).toBe('emergency access (purpose break-the-glass) without a reason')
  })

  it('hours: access outside the schedule of a role alerts; unscheduled roles are not checked', () => {
    const now = new Date()
    const hour = now.getUTCHours()
    // A one-hour shift that excludes the current hour, and one that includes it.
    const off = `${String((hour + 2) % 24).padStart(2, '0')}:00`
    const offEnd = `${String((hour + 3) % 24).padStart(2, '0')}:00`
    const on = `${String(hour).padStart(2, '0')}:00`
    const onEnd = hour === 23 ? '24:00' : `${String(hour + 1).padStart(2, '0')}:00`
    const { audit, events } = keyed({
      hours: {
        timeZone: 'UTC',
        schedules: { night: { from: off, to: offEnd }, day: { from: on, to: onEnd } },
      },
    })
    const read = (id: string, roles: string[]) => readPatient(audit, { id, roles }, 'P')
    read('n1', ['night'])
    read('d1', ['day'])
    read('both', ['night', 'day'])
    read('other', ['clerk'])
    expect(alerts(events()).map((e) => [e.rule.name, e.user.id])).toEqual([['hours', 'n1']])
  })

  it('custom rules are functions over the access; a throwing rule is counted, never thrown', () => {
    const { audit, events } = keyed({
      rules: [
        {
          name: 'exports',
          check: (a: any) => (a.action.endsWith('export') ? { message: 'exported a record' } : undefined),
        },
        {
          name: 'broken',
          check: () => {
            throw new Error('bug')
          },
        },
      ],
    })
    audit.access({
      action: 'patient-record-export',
      resource: { type: 'patient', id: 'P' },
      actor: { id: 'u' },
    })
    expect(alerts(events()).map((e) => e.rule.name)).toEqual(['exports'])
    expect(audit.monitor.stats().ruleErrors).toBe(1)
  })

  it('onAlert gets the alert; a throwing or rejecting hook breaks nothing', async () => {
    const seen: any[] = []
    const { audit, events } = keyed({
      breadth: { threshold: 1, windowSeconds: 60 },
      onAlert: (alert: any) => {
        seen.push(alert)
        throw new Error('hook bug')
      },
    })
    readPatient(audit, 'u', 'A')
    readPatient(audit, 'u', 'B')
    readPatient(audit, 'u', 'C')
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ rule: 'breadth', actor: 'u', count: 2, threshold: 1, windowSeconds: 60 })
    expect(alerts(events())).toHaveLength(1)
    expect(audit.monitor.stats()).toMatchObject({ enabled: true, alerts: 1, store: 'memory' })
  })

  const pair = generateVerifierKeyPair()
  it('alerts and enforcement events are sealed in the chain like every record', async () => {
    const lines: string[] = []
    const audit = createAuditLogger({
      service: { name: 'svc' },
      redaction: { pseudonymKey: KEY },
      integrity: { thread: 'inline', verifierKey: pair.publicKeyPem, checkpointIntervalSeconds: 0 },
      destination: { write: (l: string) => lines.push(l) },
      monitor: { breadth: { threshold: 2, windowSeconds: 60 }, enforcement: { block: ['breadth'] } },
    })
    for (const id of ['a', 'b', 'c']) {
      readPatient(audit, 'u', id)
    }
    expect(audit.monitor.isBlocked('u')).toBe(true)
    audit.monitor.unblock('u', { reason: 'reviewed' })
    await audit.close()
    const report = verifyText(lines.join(''), { privateKey: pair.privateKeyPem })
    expect(report.findings).toEqual([])
    expect(report.ok).toBe(true)
    const actions = lines.map((l) => JSON.parse(l).event.action)
    expect(actions).toContain('access-anomaly')
    expect(actions).toContain('monitor-actor-blocked')
    expect(actions).toContain('monitor-actor-unblocked')
  })
})

describe('monitor options fail at createAuditLogger()', () => {
  const make =
    (monitor: unknown, extra: object = {}) =>
    () =>
      createAuditLogger({
        destination: { write() {} },
        integrity: { enabled: false },
        monitor: monitor as never,
        ...extra,
      })
  it.each([
    [{ breadth: { threshold: 0 } }, /breadth.threshold must be a positive integer/],
    [{ rate: { windowSeconds: 'x' } }, /rate.windowSeconds must be a positive number/],
    [{ bredth: {} }, /unknown option "bredth"/],
    [{ watched: { pseudonyms: ['MRN-1'] } }, /not a pseudonym/],
    [
      { hours: { schedules: { nurse: { from: '7am', to: '19:00' } } } },
      /hours.schedules.nurse.from must be a time 'HH:MM'/,
    ],
    [
      { hours: { timeZone: 'Mars/Olympus', schedules: { n: { from: '07:00', to: '19:00' } } } },
      /not a time zone/,
    ],
    [{ rules: [{ name: 'breadth', check() {} }] }, /already taken by a built-in rule/],
    [{ rules: [{ name: 'x' }] }, /rules\[0\].check must be a function/],
    [{ enforcement: { block: ['nope'] } }, /unknown rule "nope"/],
    [{ enforcement: { signal: 'SIGKILL' } }, /enforcement.signal/],
    [{ onAlert: 1 }, /onAlert must be a function/],
    [{ redis: { url: 'http://x' } }, /redis.url must be a redis:\/\//],
    [
      { redis: { url: 'redis://x', batchMs: 5000 } },
      /redis.batchMs must be a number of milliseconds from 0 to 1000/,
    ],
  ])('%j', (monitor, message) => {
    expect(make(monitor, { redaction: { pseudonymKey: KEY } })).toThrow(message)
  })
  it('breadth without a pseudonym key says what to set', () => {
    expect(make({})).toThrow(/breadth needs a pseudonym key.*redaction.pseudonymKey/)
    expect(make({ breadth: false })).not.toThrow()
  })
  it('watched clear ids without a key say so', () => {
    expect(make({ breadth: false, watched: { ids: ['A'] } })).toThrow(/watched.ids needs a pseudonym key/)
  })
})

describe('operator controls', () => {
  it('an opt-in signal scrams the service (audited as by the signal); close() removes the handler', async () => {
    const before = process.listenerCount('SIGUSR2')
    const { audit, events } = capture({ monitor: { breadth: false, enforcement: { signal: 'SIGUSR2' } } })
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    process.kill(process.pid, 'SIGUSR2')
    const start = Date.now()
    while (!audit.monitor.scrammed && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 10))
    expect(audit.monitor.scrammed).toBe(true)
    expect(audit.monitor.verdict('anyone', '/patients/1')).toBe(503)
    const e = events().find((x) => x.event.action === 'monitor-scram-started')
    expect(e.audit.monitor).toMatchObject({ by: 'signal:SIGUSR2', state: 'scram-started' })
    await audit.close()
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })

  it('scram refuses every route but health, readiness and metrics by default; phiRoutes and openRoutes narrow it', () => {
    const byDefault = capture({ monitor: { breadth: false } }).audit.monitor
    byDefault.scram()
    for (const open of [
      '/health',
      '/healthz',
      '/health/db',
      '/readyz',
      '/livez',
      '/metrics',
      '/.well-known/jwks.json',
    ])
      expect([open, byDefault.verdict('u', open)]).toEqual([open, 0])
    // An unknown route counts as a PHI route: the SDK cannot tell that it never reaches PHI.
    for (const phi of ['/patients/1', '/login', '/', '/healthy', '/api/health'])
      expect([phi, byDefault.verdict('u', phi)]).toEqual([phi, 503])
    // A handler the adapter knows to access records (Nest @Audit) is refused even on an open path.
    expect(byDefault.verdict('u', '/health', true)).toBe(503)
    byDefault.unscram()
    expect(byDefault.verdict('u', '/patients/1', true)).toBe(0)

    const listed = capture({
      monitor: {
        breadth: false,
        enforcement: { phiRoutes: ['/patients/*', /^\/api\/v\d+\/charts/], openRoutes: ['/status'] },
      },
    }).audit.monitor
    listed.scram()
    expect(listed.verdict('u', '/patients/7')).toBe(503)
    expect(listed.verdict('u', '/api/v2/charts/9')).toBe(503)
    expect(listed.verdict('u', '/appointments/slots')).toBe(0)
    expect(listed.verdict('u', '/status')).toBe(0)
    expect(listed.verdict('u', '/login', true)).toBe(503)
    // openRoutes replaced the defaults, and an open route wins over a PHI prefix.
    const opened = capture({
      monitor: { breadth: false, enforcement: { phiRoutes: ['/*'], openRoutes: ['/livez'] } },
    }).audit.monitor
    opened.scram()
    expect(opened.verdict('u', '/livez')).toBe(0)
    expect(opened.verdict('u', '/health')).toBe(503)
    expect(() => capture({ monitor: { enforcement: { openRoutes: ['health'] } } })).toThrow(
      /enforcement.openRoutes holds "health"/,
    )
  })

  it('block/unblock work without any rule on, name the operator from the context, and check their input', () => {
    const { audit, events } = capture({})
    expect(audit.monitor.stats().enabled).toBe(false)
    audit.runWithContext({ actor: { id: 'privacy-officer-1' } }, () =>
      audit.monitor.block('u9', { reason: 'complaint' }),
    )
    expect(audit.monitor.isBlocked('u9')).toBe(true)
    expect(audit.monitor.blocked().map((b) => b.actor)).toEqual(['u9'])
    expect(audit.monitor.verdict('u9', '/x')).toBe(403)
    expect(audit.monitor.verdict('u8', '/x')).toBe(0)
    const e = events().find((x) => x.event.action === 'monitor-actor-blocked')
    expect(e.user.id).toBe('privacy-officer-1')
    expect(e.audit.monitor).toMatchObject({ actor: 'u9', by: 'operator', state: 'blocked' })
    expect(e.event.reason).toBe('complaint')
    expect(() => audit.monitor.block('')).toThrow(/non-empty actor id/)
    expect(() => audit.monitor.block('u1', { seconds: -1 })).toThrow(/positive number of seconds/)
  })
})
