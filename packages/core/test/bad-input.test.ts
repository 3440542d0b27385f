// Hostile input through the logger: every call returns normally and writes exactly one line that
// JSON.parse accepts, is well-formed UTF-8 without raw control characters or escape sequences, fits in
// 16 KiB, and holds none of the identifiers planted in it.
import { describe, expect, it } from 'vitest'
import type { AuditLogger } from '../src/index'
import { capture } from './helpers'

const MAX_LINE = 16 * 1024
const PHI = {
  ssn: '219-09-9999',
  email: 'jane.roe@example.org',
  phone: '(555) 867-5309',
  card: '4111 1111 1111 1111',
  name: 'Jane Roe',
  dob: '03/14/1961',
  mrn: 'A7731904',
  address: '1600 Elmwood Avenue',
}
const PHI_TEXT = `Patient: ${PHI.name}, SSN ${PHI.ssn}, DOB: ${PHI.dob}, MRN: ${PHI.mrn}, mail ${PHI.email}, call ${PHI.phone}, card ${PHI.card}, lives at ${PHI.address}`
const NEEDLES = [...Object.values(PHI), '219099999', '5558675309', '4111111111111111', 'jane.roe', 'Roe']

function checkLine(line: string): any {
  expect(line.endsWith('\n')).toBe(true)
  const body = line.slice(0, -1)
  expect(body).not.toContain('\n')
  expect(body).not.toMatch(/[\x00-\x1f\x7f]/)
  expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(MAX_LINE)
  expect((line as unknown as { isWellFormed(): boolean }).isWellFormed()).toBe(true)
  expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line)
  // No terminal escape survives, not even JSON-escaped, and no bidi override.
  expect(body).not.toMatch(/\\u001b|\\u009b|\u202e|\\u202e/i)
  for (const needle of NEEDLES) expect(body).not.toContain(needle)
  return JSON.parse(body)
}

/** Runs one call and checks it returned normally and wrote exactly one valid line. */
function once(call: (audit: AuditLogger) => void): any {
  const { audit, lines } = capture()
  expect(() => call(audit)).not.toThrow()
  expect(lines).toHaveLength(1)
  return checkLine(lines[0]!)
}

function hostileValues(): Record<string, unknown> {
  const circular: any = { note: PHI_TEXT }
  circular.self = circular
  circular.children = [circular, { parent: circular }]
  let deep: any = { leaf: PHI_TEXT }
  for (let i = 0; i < 10_000; i++) deep = { n: deep, ssn: PHI.ssn }
  const throwing = {
    ok: 1,
    get boom(): never {
      throw new Error(`getter failed for ${PHI.email}`)
    },
  }
  const proxy = new Proxy(
    { a: 1 },
    {
      ownKeys() {
        throw new Error(PHI_TEXT)
      },
    },
  )
  const getProxy = new Proxy(
    { a: 1, b: 2 },
    {
      get() {
        throw new Error(PHI_TEXT)
      },
    },
  )
  const revocable = Proxy.revocable({}, {})
  revocable.revoke()
  const error = Object.assign(new Error(`lookup failed: ${PHI_TEXT}`), {
    code: 'E_LOOKUP',
    detail: PHI_TEXT,
    where: PHI.ssn,
  })
  const errorWithHostileMessage = new Error('x')
  Object.defineProperty(errorWithHostileMessage, 'message', {
    get() {
      throw new Error('no message for you')
    },
  })
  const tenMb = `${PHI_TEXT} ${'z'.repeat(10 * 1024 * 1024)} ${PHI.ssn}`
  return {
    circular,
    bigint: 123456789012345678901234567890n,
    symbolKeys: { [Symbol('ssn')]: PHI.ssn, visible: 'yes', sym: Symbol(PHI.ssn) },
    throwing,
    proxy,
    getProxy,
    revoked: revocable.proxy,
    buffer: Buffer.from(PHI_TEXT),
    typed: new Float64Array(1024),
    date: new Date('2026-11-29T01:02:03Z'),
    invalidDate: new Date(Number.NaN),
    error,
    errorWithHostileMessage,
    tenMb,
    deep,
    loneSurrogates: `a\ud800b\udc00c ${PHI.ssn} \udbff`,
    newlines: `line one\nline two\r\n{"injected":"line"}\n${PHI.email}`,
    ansi: `\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07click\x1b]8;;\x07 \x1b[2J\x1b[H\u202egnp.exe \x9b31m ${PHI.phone}`,
    fn: () => PHI.ssn,
    map: new Map<unknown, unknown>([
      ['email', PHI.email],
      [{ k: 1 }, PHI_TEXT],
    ]),
    set: new Set([PHI_TEXT, PHI.card]),
    wide: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, `${PHI_TEXT} ${i}`])),
    long: Array.from({ length: 100_000 }, () => PHI.ssn),
  }
}

describe('bad input through audit.event', () => {
  for (const [name, value] of Object.entries(hostileValues())) {
    it(`${name} in details, message and reason`, () => {
      const text = typeof value === 'string' ? value : String(name)
      const event = once((audit) =>
        audit.event({
          action: 'bad-input',
          category: 'process',
          type: 'info',
          outcome: 'success',
          message: text,
          reason: text,
          details: { value, [name]: value, list: [value, value], nested: { value } },
        }),
      )
      expect(event.event.action).toBe('bad-input')
    })
  }

  it('everything at once', () => {
    const values = hostileValues()
    const event = once((audit) =>
      audit.event({
        action: 'bad-input',
        category: 'process',
        type: 'info',
        outcome: 'failure',
        message: values.tenMb as string,
        reason: values.ansi as string,
        details: values,
        error: values.error,
      }),
    )
    expect(event.error.code).toBe('E_LOOKUP')
    expect(event.error.message).toMatch(/^lookup failed: /)
  })

  it('details that are not an object, and inputs that are not what the types say', () => {
    for (const details of [PHI_TEXT, 42, null, [PHI.ssn], hostileValues().proxy]) {
      once((audit) =>
        audit.event({
          action: 'odd',
          category: 'process',
          type: 'info',
          details: details as never,
          message: PHI_TEXT,
        }),
      )
    }
    once((audit) => audit.event({ action: PHI.email, category: 'process', type: 'info' }))
    once((audit) => audit.event(hostileValues().getProxy as never))
  })
})

describe('bad input through audit.access', () => {
  const values = hostileValues()
  it.each([
    ['resource id with PHI', { type: 'patient', id: PHI.ssn }],
    ['resource type with ANSI', { type: '\x1b[31mpatient', id: 1 }],
    ['10 MB resource id', { type: 'patient', id: values.tenMb }],
    ['BigInt resource id', { type: 'patient', id: 12n }],
  ])('%s', (_name, resource) => {
    const event = once((audit) =>
      audit.access({
        action: 'patient-record-read',
        resource: resource as never,
        outcome: 'success',
        reason: PHI_TEXT,
        message: values.newlines as string,
        details: { circular: values.circular, error: values.error, deep: values.deep },
      }),
    )
    expect(event.event.action).toBe('patient-record-read')
  })

  it('an actor carrying identifiers and hostile values', () => {
    // The actor's own name is the workforce member's and is kept; identifiers in its fields are not.
    const event = once((audit) =>
      audit.access({
        action: 'patient-record-read',
        resource: { type: 'patient', id: 'p-1' },
        actor: {
          id: PHI.email,
          name: 'Dr. \x1b[1mAlex Kim',
          roles: [PHI.ssn, '\x1b[31madmin'],
          domain: 'https://idp.example.org',
        },
        error: values.errorWithHostileMessage,
      }),
    )
    expect(event.user.roles).toEqual(['[REDACTED:ssn]', 'admin'])
  })
})

describe('PHI end to end through the logger', () => {
  it('planted identifiers in every caller-supplied field never reach the line', () => {
    const { audit, lines } = capture()
    audit.runWithContext({ requestId: 'req-1', userAgent: `curl ${PHI.email}` }, () => {
      audit.login({
        actor: { id: 'u-1' },
        outcome: 'failure',
        reason: PHI_TEXT,
        attemptedIdentifier: PHI.email,
      })
      audit.access({
        action: 'patient-record-read',
        resource: { type: 'patient', id: PHI.mrn },
        outcome: 'success',
        purpose: `treatment, patient ${PHI.name}`,
        reason: PHI_TEXT,
        message: PHI_TEXT,
        details: {
          patient: { name: PHI.name, ssn: PHI.ssn, dob: PHI.dob, address: { street: PHI.address } },
          contactEmail: PHI.email,
          homePhone: PHI.phone,
          cardNumber: PHI.card,
          notes: [PHI_TEXT],
        },
      })
      audit.event({
        action: 'export',
        category: 'file',
        type: 'access',
        outcome: 'failure',
        error: new Error(PHI_TEXT),
        details: { summary: PHI_TEXT },
      })
      audit.httpRequest({
        method: 'GET',
        path: `/patients/by-name/${encodeURIComponent(PHI.name)}/ssn/${PHI.ssn}?email=${PHI.email}`,
        route: '/patients/by-name/:name/ssn/:ssn',
        statusCode: 404,
        error: new Error(PHI_TEXT),
      })
      audit.dbQuery({
        text: `SELECT * FROM patients WHERE note = 'Patient: ${PHI.name}'`,
        error: new Error(PHI_TEXT),
      })
    })
    expect(lines).toHaveLength(5)
    for (const line of lines) checkLine(line)
    const access = JSON.parse(lines[1]!)
    expect(access.audit.details.patient).toEqual({
      address: '[REDACTED:address]',
      dob: '[REDACTED:dob]',
      name: '[REDACTED:name]',
      ssn: '[REDACTED:ssn]',
    })
    expect(access.audit.details.notes[0]).toContain('[REDACTED:ssn]')
  })
})
