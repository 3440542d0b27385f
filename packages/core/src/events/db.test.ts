// dbRecord remembers the database names and tokens that cleaning left unchanged (per logger, so per
// policy): what is remembered must never let a name through that cleaning would have changed.
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../options'
import { compilePolicy } from '../redact/index'
import type { DbQueryRecord, RedactionOptions } from '../types'
import { dbRecord } from './db'
import { type AuditRecord, type BuildEnv, buildEnv } from './record'

function envWith(redaction?: RedactionOptions): BuildEnv {
  return buildEnv(
    compilePolicy(redaction, {}),
    resolveOptions({ service: { name: 'svc' }, destination: { write() {} } }),
  )
}

const query = (over: Partial<DbQueryRecord>): DbQueryRecord => ({
  system: 'postgresql',
  namespace: 'clinic',
  operation: 'SELECT',
  collection: 'patients',
  text: 'SELECT * FROM patients WHERE id = $1',
  fingerprint: 'f00d',
  statusCode: '23505',
  outcome: 'failure',
  ...over,
})

function dbOf(record: AuditRecord) {
  return {
    db: record.db as {
      collection?: { name: string }
      namespace?: string
      operation?: { name: string }
      response?: { status_code?: string }
      system: { name: string }
    },
    fingerprint: (record.audit?.db as { fingerprint?: string } | undefined)?.fingerprint,
  }
}

describe('dbRecord names and tokens', () => {
  it('writes clean names and tokens as they are, every time', () => {
    const env = envWith()
    for (let i = 0; i < 3; i++) {
      const { db, fingerprint } = dbOf(dbRecord(env, undefined, query({})))
      expect(db.collection).toEqual({ name: 'patients' })
      expect(db.namespace).toBe('clinic')
      expect(db.operation).toEqual({ name: 'SELECT' })
      expect(db.system).toEqual({ name: 'postgresql' })
      expect(db.response?.status_code).toBe('23505')
      expect(fingerprint).toBe('f00d')
    }
  })

  it('cleans a name or token that needs it on every record, before and after clean ones', () => {
    const env = envWith()
    const dirty = query({
      collection: 'jane.doe@example.org',
      namespace: 'ssn 123-45-6789',
      operation: 'SELECT;DROP',
      system: 'postgres ql',
      fingerprint: 'ab cd',
      statusCode: '23 505',
    })
    for (const input of [dirty, query({}), dirty, dirty]) {
      const { db, fingerprint } = dbOf(dbRecord(env, undefined, input))
      if (input === dirty) {
        expect(db.collection?.name).toBe('[REDACTED:email]')
        expect(db.namespace).toBe('ssn_[REDACTED:ssn]')
        expect(db.operation).toEqual({ name: 'SELECT_DROP' })
        expect(db.system).toEqual({ name: 'postgres_ql' })
        expect(fingerprint).toBe('ab_cd')
        expect(db.response?.status_code).toBe('23_505')
      } else {
        expect(db.collection?.name).toBe('patients')
        expect(db.namespace).toBe('clinic')
      }
    }
  })

  it("remembers per logger: a name one policy keeps, another's detector still redacts", () => {
    const plain = envWith()
    const strict = envWith({ detectors: [{ name: 'ward', pattern: /\bward7\b/g }] })
    for (let i = 0; i < 2; i++) {
      expect(dbOf(dbRecord(plain, undefined, query({ namespace: 'ward7' }))).db.namespace).toBe('ward7')
      expect(dbOf(dbRecord(strict, undefined, query({ namespace: 'ward7' }))).db.namespace).toBe(
        '[REDACTED:ward]',
      )
    }
  })
})
