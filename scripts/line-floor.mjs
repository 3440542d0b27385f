#!/usr/bin/env node
/**
 * The line-size floor (issue 18): how long an audit trail's lines are, and how long they would be
 * with only what ../shared/DESIGN.md names, for the same events and values.
 *
 *   node scripts/demo.mjs --quiet --out DIR && node scripts/line-floor.mjs DIR/audit.ndjson
 *
 * Prints the average line (UTF-8 bytes, newline included) as written; without `audit.integrity`;
 * with only the fields DESIGN.md names (time, level, message, ecs.version, event's kind, category,
 * type, action, outcome, id, duration, reason, user's id, roles, domain, effective, source, client,
 * user_agent.original, http without the allow-listed request headers, url, service, trace, span,
 * error, db, audit's resource, session, purpose); and that plus the integrity fields DESIGN.md names
 * ({ stream, seq, prev, mac }, mac where the record has one, and the genesis's sealed key). Keys and
 * values are the line's own, so the last figure is the least any line carrying these events can be.
 */
import { readFileSync } from 'node:fs'

const file = process.argv[2]
if (!file) {
  console.error('usage: node scripts/line-floor.mjs AUDIT.ndjson')
  process.exit(2)
}

const EVENT = ['action', 'category', 'duration', 'id', 'kind', 'outcome', 'reason', 'type']
const USER = ['domain', 'effective', 'id', 'roles']
const TOP = [
  '@timestamp',
  'log.level',
  'message',
  'ecs.version',
  'trace',
  'span',
  'error',
  'db',
  'url',
  'service',
  'source',
  'client',
]
const AUDIT = ['purpose', 'resource', 'session']
const INTEGRITY = ['key', 'mac', 'prev', 'seq', 'stream']

const bytes = (record) => Buffer.byteLength(JSON.stringify(record)) + 1
const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]))

const lines = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
const sums = { written: 0, noIntegrity: 0, named: 0, namedWithIntegrity: 0 }
for (const line of lines) {
  const r = JSON.parse(line)
  sums.written += Buffer.byteLength(line) + 1
  const { integrity, ...auditRest } = r.audit ?? {}
  const without = { ...r, audit: auditRest }
  if (Object.keys(auditRest).length === 0) delete without.audit
  sums.noIntegrity += bytes(without)

  const named = pick(r, TOP)
  if (r.event) named.event = pick(r.event, EVENT)
  if (r.user) named.user = pick(r.user, USER)
  if (r.user_agent?.original !== undefined) named.user_agent = { original: r.user_agent.original }
  if (r.http) {
    const http = structuredClone(r.http)
    if (http.request) delete http.request.headers
    named.http = http
  }
  const audit = pick(r.audit ?? {}, AUDIT)
  if (Object.keys(audit).length > 0) named.audit = audit
  sums.named += bytes(named)
  if (integrity) named.audit = { ...audit, integrity: pick(integrity, INTEGRITY) }
  sums.namedWithIntegrity += bytes(named)
}
const avg = (n) => (n / lines.length).toFixed(1)
console.log(`${lines.length} lines of ${file}, average bytes per line (newline included):`)
console.log(`  as written                                              ${avg(sums.written)}`)
console.log(`  without audit.integrity                                 ${avg(sums.noIntegrity)}`)
console.log(`  only the fields DESIGN.md names, no integrity           ${avg(sums.named)}`)
console.log(`  the same + integrity { stream, seq, prev, mac } (floor) ${avg(sums.namedWithIntegrity)}`)
