import { describe, expect, test } from 'vitest'
import { sanitizeError, sanitizeMessage, sqlState } from './error'

describe('sanitizeMessage', () => {
  test.each([
    [
      'duplicate key value violates unique constraint "patients_ssn_key"',
      'duplicate key value violates unique constraint "patients_ssn_key"',
    ],
    ['invalid input syntax for type integer: "123-45-6789"', 'invalid input syntax for type integer: "?"'],
    [`syntax error at or near "'Smith'"`, 'syntax error at or near "?"'],
    ['value "99999999999" is out of range for type integer', 'value "?" is out of range for type integer'],
    [
      'null value in column "ssn" of relation "patients" violates not-null constraint',
      'null value in column "ssn" of relation "patients" violates not-null constraint',
    ],
    ['Key (ssn)=(123-45-6789) already exists.', 'Key (?)=(?) already exists.'],
    [
      'new row violates check constraint "c". Failing row contains (1, John Smith, 123-45-6789).',
      'new row violates check constraint "c". Failing row contains (?)',
    ],
    ["custom error 'Jane Doe' raised", "custom error '?' raised"],
    ['first line\nDETAIL: Key (ssn)=(123-45-6789)', 'first line'],
    ['unterminated "quote with 123-45-6789', 'unterminated "?"'],
  ])('%s', (input, expected) => {
    expect(sanitizeMessage(input)).toBe(expected)
  })
})

describe('sanitizeError', () => {
  test('keeps class, SQLSTATE and a clean message; drops detail, where, hint, stack', () => {
    const err = Object.assign(new Error('duplicate key value violates unique constraint "p_ssn_key"'), {
      name: 'error',
      code: '23505',
      detail: 'Key (ssn)=(123-45-6789) already exists.',
      where: 'SQL function "f" statement 1',
    })
    Object.defineProperty(err, 'constructor', { value: { name: 'DatabaseError' } })
    const out = sanitizeError(err)
    expect(out).toEqual({
      name: 'DatabaseError',
      code: '23505',
      message: 'duplicate key value violates unique constraint "p_ssn_key"',
    })
    expect(sqlState(err)).toBe('23505')
  })

  test('driver errors keep their code; it is not a SQLSTATE', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    expect(sanitizeError(err)).toEqual({
      name: 'Error',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
    })
    expect(sqlState(err)).toBeUndefined()
  })

  test('non-errors', () => {
    expect(sanitizeError('boom "123-45-6789"')).toEqual({ name: 'Error', message: 'boom "?"' })
    expect(sanitizeError(null).name).toBe('Error')
  })
})
