// The attribute allow-list of examples/otel-collector/otel-collector.yaml keeps every attribute name
// boundary-audit emits (and nothing that merely looks like one), so the example does not silently
// drop fields when the mapping grows.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ATTRIBUTE_TABLE, toAttributes } from '../src/otel/index'

const here = dirname(fileURLToPath(import.meta.url))
const config = readFileSync(resolve(here, '../../../examples/otel-collector/otel-collector.yaml'), 'utf8')

/** The pattern of `keep_matching_keys(log.attributes, "...")`, with OTTL's string escapes undone. */
function allowList(): RegExp {
  const m = /keep_matching_keys\(log\.attributes, "((?:[^"\\]|\\.)*)"\)/.exec(config)
  if (!m) throw new Error('no keep_matching_keys(log.attributes, ...) statement in the collector config')
  return new RegExp(m[1]!.replace(/\\\\/g, '\\'))
}

describe('examples/otel-collector allow-list', () => {
  const keep = allowList()

  it('keeps every attribute name of the mapping table', () => {
    for (const [, to] of ATTRIBUTE_TABLE) {
      if (typeof to === 'string') expect(keep.test(to), to).toBe(true)
    }
  })

  it('keeps the names built at run time: audit.* fields, headers, details', () => {
    const attrs = toAttributes({
      http: { request: { headers: { 'x-forwarded-proto': 'https' } } },
      audit: {
        details: { a: 1 },
        integrity: { stream: 's', seq: 1, prev: 'p', mac: 'm', key: { kid: 'k' } },
        resource: { type: 'patient', id: 'x' },
        db: { fingerprint: 'f', statement_name: 'n', slow: true },
        handler: { controller: 'C', name: 'h' },
        truncated: true,
        auth_method: 'oidc',
      },
      user: { effective: { id: 'u' } },
    })
    for (const name of Object.keys(attrs)) expect(keep.test(name), name).toBe(true)
  })

  it('drops names boundary-audit does not write', () => {
    for (const name of [
      'http.request.body',
      'db.query.parameter.0',
      'user.email',
      'user.full_name',
      'patient.ssn',
      'enduser.id',
    ]) {
      expect(keep.test(name), name).toBe(false)
    }
  })
})
