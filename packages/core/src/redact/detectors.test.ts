import { describe, expect, it } from 'vitest'
import { cardIssuer, luhn, validCard, validSsn } from './detectors'
import { compilePolicy, redactText } from './index'

const policy = compilePolicy(undefined, {})
const r = (s: string) => redactText(s, policy)

describe('checksums and validity rules', () => {
  it('Luhn accepts test card numbers and rejects a changed digit', () => {
    expect(luhn('4111111111111111')).toBe(true)
    expect(luhn('5500005555555559')).toBe(true)
    expect(luhn('378282246310005')).toBe(true)
    expect(luhn('4111111111111112')).toBe(false)
    expect(luhn('12a4')).toBe(false)
  })
  it('SSN: area 000, 666, 9xx, group 00 and serial 0000 are never issued', () => {
    expect(validSsn('123456789')).toBe(true)
    expect(validSsn('000456789')).toBe(false)
    expect(validSsn('666456789')).toBe(false)
    expect(validSsn('900456789')).toBe(false)
    expect(validSsn('123006789')).toBe(false)
    expect(validSsn('123450000')).toBe(false)
    expect(validSsn('12345678')).toBe(false)
  })
  it('cards need an issuer prefix (epoch milliseconds start with 1) and Luhn', () => {
    expect(cardIssuer('4111')).toBe(true)
    expect(cardIssuer('1764')).toBe(false)
    expect(cardIssuer('7000')).toBe(false)
    expect(validCard('4111 1111 1111 1111')).toBe(true)
    expect(validCard('1764378871123')).toBe(false)
  })
})

describe('ssn', () => {
  it('masks dashed and spaced SSNs', () => {
    expect(r('ssn 123-45-6789 on file')).toBe('ssn [REDACTED:ssn] on file')
    expect(r('123 45 6789')).toBe('[REDACTED:ssn]')
  })
  it('keeps numbers that break the issuing rules or mix separators', () => {
    for (const s of [
      '000-12-3456',
      '666-12-3456',
      '912-34-5678',
      '123-00-4567',
      '123-45-0000',
      '123-45 6789',
    ]) {
      expect(r(s)).toBe(s)
    }
  })
  it('takes nine bare digits only after an SSN cue', () => {
    expect(r('order 123456789 shipped')).toBe('order 123456789 shipped')
    expect(r('SSN: 123456789')).toBe('SSN: [REDACTED:ssn]')
    expect(r('social security number is 234567890')).toBe('social security number is [REDACTED:ssn]')
    expect(r('ssn=666123456')).toBe('ssn=666123456')
  })
  it('does not take part of a longer number or a decimal', () => {
    expect(r('9123-45-67890')).toBe('9123-45-67890')
    expect(r('0.123-45-6789')).toBe('0.123-45-6789')
  })
})

describe('email', () => {
  it('masks addresses, including plus tags, subdomains and non-ASCII letters', () => {
    expect(r('from john.doe+lab@mail.example.co.uk today')).toBe('from [REDACTED:email] today')
    expect(r('<ÉLODIE@exemple.fr>')).toBe('<[REDACTED:email]>')
  })
  it('keeps scoped package names, versions and hosts without a TLD', () => {
    for (const s of ['@boundary-audit/core', 'pino@10.3.1', 'postgres@localhost', 'a@b']) expect(r(s)).toBe(s)
  })
})

describe('phone', () => {
  it('masks NANP numbers written with separators', () => {
    for (const s of ['555-123-4567', '(555) 123-4567', '555.123.4567', '+1 555 123 4567', '1-800-555-0199']) {
      expect(r(`call ${s} now`)).toBe('call [REDACTED:phone] now')
    }
  })
  it('masks international numbers with a + country code', () => {
    expect(r('+44 20 7946 0958')).toBe('[REDACTED:phone]')
    expect(r('+4915112345678')).toBe('[REDACTED:phone]')
  })
  it('takes ten bare digits only after a phone cue', () => {
    expect(r('id 5551234567')).toBe('id 5551234567')
    expect(r('phone: 5551234567')).toBe('phone: [REDACTED:phone]')
  })
  it('keeps timezone offsets, IP addresses and dates', () => {
    for (const s of ['2026-11-29T01:14:31+01:00', '10.20.30.40', '192.168.100.200', '2026-11-29', '+0530']) {
      expect(r(s)).toBe(s)
    }
  })
})

describe('card', () => {
  it('masks Luhn-valid numbers, plain or grouped', () => {
    for (const s of ['4111111111111111', '4111 1111 1111 1111', '5500-0055-5555-5559', '3782 822463 10005']) {
      expect(r(`card ${s}.`)).toBe('card [REDACTED:card].')
    }
  })
  it('keeps Luhn-invalid numbers, epoch milliseconds and nanosecond durations', () => {
    for (const s of ['4111111111111112', '1764378871123', '1764378871123456789']) expect(r(s)).toBe(s)
  })
})

describe('mrn', () => {
  it('masks the id after an MRN cue', () => {
    expect(r('MRN: A1234567')).toBe('MRN: [REDACTED:mrn]')
    expect(r('medical record number 00451234 not found')).toBe(
      'medical record number [REDACTED:mrn] not found',
    )
    expect(r('patient #88213 admitted')).toBe('patient #[REDACTED:mrn] admitted')
  })
  it('needs a digit in the id and a cue before it', () => {
    expect(r('MRN: pending')).toBe('MRN: pending')
    expect(r('order A1234567')).toBe('order A1234567')
  })
})

describe('dob', () => {
  it('masks the date after a date-of-birth cue, in the usual formats', () => {
    for (const d of [
      '01/02/1980',
      '1980-01-02',
      '2.1.1980',
      'March 5, 1980',
      '5 March 1980',
      'Mar 5th 1980',
    ]) {
      expect(r(`DOB: ${d}`)).toBe('DOB: [REDACTED:dob]')
    }
    expect(r('born on 1980-01-02')).toBe('born on [REDACTED:dob]')
    expect(r('"birthDate":"1980-01-02"')).toBe('"birthDate":"[REDACTED:dob]"')
  })
  it('keeps dates without a cue (timestamps, service dates)', () => {
    expect(r('created 1980-01-02T00:00:00Z')).toBe('created 1980-01-02T00:00:00Z')
  })
})

describe('name', () => {
  it('masks capitalised words after a cue', () => {
    expect(r('Patient: John Smith')).toBe('Patient: [REDACTED:name]')
    expect(r('patient John Smith was seen')).toBe('patient [REDACTED:name] was seen')
    expect(r("name=Mary-Jane O'Brien")).toBe('name=[REDACTED:name]')
    expect(r('{"lastName":"McDonald"}')).toBe('{"lastName":"[REDACTED:name]"}')
    expect(r('seen by Dr. Élodie Durand')).toBe('seen by Dr. [REDACTED:name]')
    expect(r('Mrs Smith called')).toBe('Mrs [REDACTED:name] called')
  })
  it('keeps bare capitalised words, acronyms and common words after a cue', () => {
    for (const s of [
      'John Smith',
      'Patient Record not found',
      'name: GET',
      'patient ID missing',
      'Mozilla/5.0 (X11)',
    ]) {
      expect(r(s)).toBe(s)
    }
  })
})

describe('address', () => {
  it('masks a street address with its unit, city, state and zip', () => {
    expect(r('lives at 123 Main Street, Apt 4B, Springfield, IL 62704 since May')).toBe(
      'lives at [REDACTED:address] since May',
    )
    expect(r('1600 Pennsylvania Ave NW')).toBe('[REDACTED:address] NW')
    expect(r('42 W 5th Ave')).toBe('[REDACTED:address]')
    expect(r('PO Box 1234')).toBe('[REDACTED:address]')
  })
  it('keeps numbers followed by words that are not streets', () => {
    for (const s of ['returned 200 OK', '3 Users Found', 'Chrome/131.0 Safari/537.36', 'step 2 Drive Mode']) {
      expect(r(s)).not.toContain('REDACTED')
    }
  })
})

describe('opt-in detectors', () => {
  it('leaves IP addresses and zip codes alone by default', () => {
    expect(r('connect ECONNREFUSED 10.0.0.5:5432 zip 62704')).toBe(
      'connect ECONNREFUSED 10.0.0.5:5432 zip 62704',
    )
  })
  it('masks them when named in detectors', () => {
    const p = compilePolicy({ detectors: ['ip', 'zip'] }, {})
    expect(redactText('from 10.0.0.5 and 2001:db8::1, zip 62704', p)).toBe(
      'from [REDACTED:ip] and [REDACTED:ip], zip [REDACTED:zip]',
    )
    expect(redactText('at 01:14:31', p)).toBe('at 01:14:31')
  })
})

describe('user detectors and disabling', () => {
  it('runs a user detector with its validate and mode', () => {
    const p = compilePolicy(
      {
        detectors: [{ name: 'mrn', pattern: /\bH\d{6}\b/g, validate: (m) => m !== 'H000000' }],
      },
      {},
    )
    expect(redactText('chart H123456 and H000000', p)).toBe('chart [REDACTED:mrn] and H000000')
  })
  it('a user validate that throws redacts (fails closed)', () => {
    const p = compilePolicy(
      {
        detectors: [
          {
            name: 'tag',
            pattern: /T-\d+/g,
            validate: () => {
              throw new Error('bug')
            },
          },
        ],
      },
      {},
    )
    expect(redactText('T-1', p)).toBe('[REDACTED:tag]')
  })
  it('disableDetectors turns a built-in off', () => {
    const p = compilePolicy({ disableDetectors: ['name'] }, {})
    expect(redactText('Patient: John Smith', p)).toBe('Patient: John Smith')
    expect(redactText('ssn 123-45-6789', p)).toBe('ssn [REDACTED:ssn]')
  })
})
