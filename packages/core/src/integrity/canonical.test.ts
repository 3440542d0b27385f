/**
 * expandKeys' common-case path (plain objects, as the SDK's `ecs.version` / `log.level` need) gives
 * what the general path gives, whatever the keys: inherited names (`__proto__`, `constructor`),
 * shared first segments, collisions; and the MAC input over it is the same.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalize, expandKeys, expandKeysGeneral, macInputOf } from './canonical'

type Obj = Record<string, unknown>

/** Own members, recursively, as [key, value] pairs sorted by key: what a reader of the object can find. */
function members(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v)) return v.map(members)
  return Object.keys(v)
    .sort()
    .map((k) => [k, members((v as Obj)[k])])
}

const NAMES = ['a', 'b', 'log', 'level', 'ecs', 'version', '__proto__', 'constructor', 'toString']
const key = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.array(fc.constantFrom(...NAMES), { minLength: 2, maxLength: 3 }).map((p) => p.join('.')),
)
/** JSON text (so that `__proto__` is an own member, as JSON.parse makes it). */
const record = fc
  .array(
    fc.tuple(
      key,
      fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.dictionary(key, fc.integer(), { maxKeys: 2 })),
    ),
    {
      maxLength: 6,
    },
  )
  .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`)

describe('expandKeys, common case', () => {
  it('makes plain objects for records as the SDK writes them', () => {
    const top = expandKeys(
      JSON.parse('{"@timestamp":"t","ecs.version":"8","log.level":"info","message":"m"}'),
    )
    expect(Object.getPrototypeOf(top)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(top.log)).toBe(Object.prototype)
    expect(members(top)).toEqual(
      members({ '@timestamp': 't', ecs: { version: '8' }, log: { level: 'info' }, message: 'm' }),
    )
  })

  it('property: the same members as the general path, and the same canonical form and MAC input', () => {
    let simple = 0
    fc.assert(
      fc.property(record, fc.subarray([...NAMES, '@timestamp']), (text, fields) => {
        const v = JSON.parse(text) as Obj
        expect(members(expandKeys(v))).toEqual(members(expandKeysGeneral(v)))
        expect(canonicalize(expandKeys(v))).toBe(canonicalize(expandKeysGeneral(v)))
        // Where the common-case path was taken (a new plain object), the MAC input over the record
        // is the one over the general path's expansion (which then has no dotted key left to expand
        // again), also for fields that name inherited members the record does not hold.
        const top = expandKeys(v)
        if (top !== v && Object.getPrototypeOf(top) === Object.prototype) {
          simple++
          const general = expandKeysGeneral(v)
          expect(macInputOf(v, fields)).toBe(macInputOf(general, fields))
          expect(macInputOf(v, fields, 2)).toBe(macInputOf(general, fields, 2))
        }
      }),
      { numRuns: 1000 },
    )
    expect(simple).toBeGreaterThan(30)
  })
})
