#!/usr/bin/env node
// `npm run demo`: the whole story in under a minute, on a machine with nothing but Node.js.
//
//  1. makes a verifier key pair and a pseudonym key (`boundary-audit keygen`); the service gets the
//     public key and the pseudonym key, never the private key (kept in DIR/demo-keys with --out)
//  2. starts PostgreSQL (the one configured by DATABASE_URL / PG* / 127.0.0.1:5432, else an
//     embedded one from npm)
//  3. starts the clinic API (examples/clinic-express) with stdout captured, as a container runtime would
//  4. drives a scripted session: logins, reads, a search with PHI in the query string, a write,
//     a failed login, a forbidden read, logouts; then a scripted bulk read that trips
//     the privacy monitor's breadth rule: the account is blocked (403), the alert is in the trail
//  5. prints the audit events it wrote
//  6. `boundary-audit verify` on the captured log: intact
//  7. tampers with the log twice (an edited actor, a deleted line) and verifies again: found
//  8. `boundary-audit report`: which patients one clinician reached, and that the answer is complete
//
// Options: --app express|nest (which clinic API; default express), --out DIR (keep the captured
// and tampered logs there), --quiet (no event listing).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
// For working on the packages without a build: BOUNDARY_AUDIT_DEMO_FROM_SOURCE=1 runs the CLI and
// the Express app from TypeScript source through tsx (the Nest app always needs its build).
const fromSource = process.env.BOUNDARY_AUDIT_DEMO_FROM_SOURCE === '1'
const nodeArgs = fromSource ? ['--conditions=source', '--import', 'tsx'] : []
const cli = join(root, fromSource ? 'packages/core/src/cli/index.ts' : 'packages/core/dist/cli.js')
const APPS = {
  express: { name: 'clinic-express', entry: join(root, 'examples/clinic-express/src/server.mjs') },
  nest: { name: 'clinic-nest', entry: join(root, 'examples/clinic-nest/dist/main.js') },
}

const { values: opts } = parseArgs({
  options: {
    app: { type: 'string', default: 'express' },
    out: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
})
const app = APPS[opts.app]
if (!app) fail(`--app must be one of ${Object.keys(APPS).join(', ')}; got ${opts.app}`)

const color = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code) => (s) => (color ? `\x1b[${code}m${s}\x1b[0m` : String(s))
const bold = paint('1')
const dim = paint('2')
const red = paint('31')
const green = paint('32')
const yellow = paint('33')
const cyan = paint('36')

const started = Date.now()
const cleanups = []
let exitCode = 0
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true
    process.stderr.write(`\n${signal}: cleaning up\n`)
    void cleanup().then(() => process.exit(130))
  })
}

try {
  await main()
} catch (err) {
  exitCode = 1
  console.error(red(`\ndemo failed: ${err?.stack ?? err}`))
} finally {
  if (!interrupted) {
    await cleanup()
    console.log(dim(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`))
    process.exit(exitCode)
  }
}

async function main() {
  for (const [file, hint] of [
    [cli, 'packages/core is not built'],
    [app.entry, `${app.name} is not built`],
  ]) {
    if (!existsSync(file))
      fail(`${relative(root, file)} is missing (${hint}): run \`npm run demo\`, which builds first`)
  }
  console.log(
    bold('boundary-audit demo: a clinic API, its audit trail, and proof that the trail is intact\n'),
  )

  const work = mkdtempSync(join(tmpdir(), 'boundary-audit-demo-'))
  cleanups.push(() => rmSync(work, { recursive: true, force: true }))
  const out = opts.out ?? work
  mkdirSync(out, { recursive: true })
  const logFile = join(out, 'audit.ndjson')

  step(1, 'verifier key pair and pseudonym key (`boundary-audit keygen`)')
  // kept with the logs when --out is given (the tests check the log with the pseudonym key); a
  // previous demo's keys there are replaced (keygen never overwrites)
  const keys = join(opts.out ? out : work, 'demo-keys')
  rmSync(keys, { recursive: true, force: true })
  await run([cli, 'keygen', '--out', keys], { expect: [0], show: false })
  note(`scratch directory (removed at the end): ${work}`)
  const publicKey = join(keys, 'verifier-public.pem')
  const privateKey = join(keys, 'verifier-private.pem')
  note(`public key  -> the service (BOUNDARY_AUDIT_VERIFIER_KEY): ${publicKey}`)
  note(`private key -> kept by the verifier only, never on the service's cluster: ${privateKey}`)
  const pseudonymKey = join(keys, 'pseudonym.key')
  note(
    `pseudonym key -> the service (BOUNDARY_AUDIT_PSEUDONYM_KEY), so patient ids are pseudonyms: ${pseudonymKey}`,
  )

  step(2, 'PostgreSQL')
  const { ensurePostgres } = await import('./postgres.mjs')
  const pgStarted = Date.now()
  const pg = await ensurePostgres()
  cleanups.push(() => pg.stop())
  note(`${redactUrl(pg.connectionString)} (ready in ${Date.now() - pgStarted} ms)`)
  const schema = `clinic_demo_${randomBytes(4).toString('hex')}`
  cleanups.push(() => dropSchema(pg.connectionString, schema))

  step(3, `${app.name}, stdout (the audit lines) captured to ${logFile}`)
  const { startClinic } = await import('../examples/clinic-express/src/launch.mjs')
  const clinic = await startClinic({
    args: [...nodeArgs, app.entry],
    cwd: root,
    stdoutFile: logFile,
    env: {
      DATABASE_URL: pg.connectionString,
      CLINIC_DB_SCHEMA: schema,
      OTEL_SERVICE_NAME: 'clinic-api',
      BOUNDARY_AUDIT_VERIFIER_KEY: publicKey,
      BOUNDARY_AUDIT_PSEUDONYM_KEY: pseudonymKey,
      // The privacy monitor's breadth rule, lowered from 100 patients an hour for a three-patient clinic.
      CLINIC_MONITOR_BREADTH: '2',
      NODE_NO_WARNINGS: '1',
    },
  })
  cleanups.push(() => clinic.stop('SIGKILL'))
  note(`listening on ${clinic.url} (pid ${clinic.pid})`)

  step(4, 'scripted session')
  const { runSession } = await import('../examples/clinic-express/src/session.mjs')
  await runSession(clinic.url, { say: (s) => note(s) })
  // Both clinics run the same privacy monitor (examples/clinic-express/src/monitor.mjs).
  step('4b', 'scripted bulk read: one account lists every patient (privacy monitor, breadth > 2 per hour)')
  const { runBulkRead } = await import('../examples/clinic-express/src/bulk-read.mjs')
  const bulk = await runBulkRead(clinic.url, { say: (s) => note(s) })
  if (bulk.search !== 200 || bulk.after !== 403) {
    fail(
      `bulk read: expected the search to pass (200) and the next request to be refused (403); got ${bulk.search}, ${bulk.after}`,
    )
  }
  note(
    yellow(
      `the breadth rule tripped during the search (${bulk.listed} patients); the account is blocked: 403`,
    ),
  )
  const code = await clinic.stop('SIGTERM')
  if (code !== 0) fail(`${app.name} exited with code ${code}:\n${clinic.stderr()}`)
  const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean)
  note(`${app.name} stopped (SIGTERM); ${lines.length} audit lines captured`)

  step(5, 'the audit trail (one JSON line each on stdout; shown here condensed)')
  const events = lines.map((l) => JSON.parse(l))
  if (!opts.quiet) for (const e of events) console.log(`   ${formatEvent(e)}`)
  const actions = new Set(events.map((e) => e.event?.action))
  for (const needed of ['user-login', 'user-logout', 'http-request', 'db-query', 'patient-record-read']) {
    if (!actions.has(needed)) fail(`no ${needed} event was written`)
  }
  const alert = events.find((e) => e.event?.kind === 'alert' && e.event?.action === 'access-anomaly')
  const blocked = events.find((e) => e.event?.action === 'monitor-actor-blocked')
  if (!alert || !blocked) fail('the bulk read wrote no access-anomaly alert or no block event')

  step(6, `boundary-audit verify --key verifier-private.pem audit.ndjson`)
  const intact = await run([cli, 'verify', '--key', privateKey, logFile], { expect: [0] })
  note(green(`exit ${intact.code}: intact`))
  note(
    `the privacy monitor's alert (#${alert.audit.integrity.seq}, rule ${alert.rule.name}) and the block (#${blocked.audit.integrity.seq}) are sealed in this verified chain`,
  )

  step(7, 'tampering in the logging cluster, then verify again')
  const readIdx = events.findIndex(
    (e) => e.event?.action === 'patient-record-read' && e.event?.outcome === 'success',
  )
  const modified = events.map((e) => structuredClone(e))
  const victim = modified[readIdx]
  const before = victim.user?.id
  victim.user = {
    ...victim.user,
    id: 'CiQ1YzFlN2E4ZS0yZjRiLTRhMzktOWQwZS03YjJmMWMzZDRlNWYSBWxvY2Fs',
    name: 'lisa.cuddy',
  }
  const modifiedFile = join(out, 'tampered-modified.ndjson')
  writeFileSync(modifiedFile, `${modified.map((e) => JSON.stringify(e)).join('\n')}\n`)
  note(
    `(a) line ${readIdx + 1}, the ${bold('patient-record-read')}: user.id ${short(before)} -> another clinician's id (who read the record?)`,
  )
  const found1 = await run([cli, 'verify', '--key', privateKey, modifiedFile], { expect: [1] })
  note(yellow(`exit ${found1.code}: tampering found`))

  const failedIdx = events.findIndex(
    (e) => e.event?.action === 'user-login' && e.event?.outcome === 'failure',
  )
  const deleted = lines.filter((_, i) => i !== failedIdx)
  const deletedFile = join(out, 'tampered-deleted.ndjson')
  writeFileSync(deletedFile, `${deleted.join('\n')}\n`)
  note(`(b) line ${failedIdx + 1}, the ${bold('failed login')}, deleted (hiding a password-guessing attempt)`)
  const found2 = await run([cli, 'verify', '--key', privateKey, deletedFile], { expect: [1] })
  note(yellow(`exit ${found2.code}: tampering found`))

  const doctor = events[readIdx].user?.id
  step(8, `which patients did ${short(doctor)} reach? (boundary-audit report, in the same pass as verify)`)
  const answer = await run(
    [cli, 'report', '--key', privateKey, '--pseudonym-key', pseudonymKey, '--actor', doctor, logFile],
    { expect: [0] },
  )
  note(green(`exit ${answer.code}: complete (every stream verified intact; the counts are exact)`))

  console.log(
    `\n${bold('What you saw:')} every boundary event with its actor, no PHI (planted SSNs, names, dates of birth,\n` +
      'phone numbers, the typed-in password and the query-string values never reached the log), and a chain\n' +
      'that proves the log intact or names what changed. Read any NDJSON audit log with `npx boundary-audit pretty`.',
  )
  if (opts.out) note(`logs kept in ${out}`)
}

/** Runs the CLI with this Node.js, prints its output indented, checks the exit code. */
async function run(args, { expect, show = true }) {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => {
    output += d
  })
  child.stderr.on('data', (d) => {
    output += d
  })
  const code = await new Promise((resolve) => child.on('close', resolve))
  if (show) for (const line of output.trimEnd().split('\n')) if (line) console.log(`   ${dim('|')} ${line}`)
  if (!expect.includes(code)) {
    fail(
      `\`boundary-audit ${args.slice(1).join(' ')}\` exited ${code}, expected ${expect.join(' or ')}\n${output}`,
    )
  }
  return { code, output }
}

function formatEvent(e) {
  const time = typeof e['@timestamp'] === 'string' ? e['@timestamp'].slice(11, 23) : '?'
  const seq = e.audit?.integrity?.seq
  const action = e.event?.action ?? '?'
  const outcome = e.event?.outcome ?? ''
  const who = e.user?.name ?? (e.user?.id ? short(e.user.id) : '-')
  const roles = e.user?.roles ? dim(` [${e.user.roles.join(',')}]`) : ''
  const o = outcome === 'success' ? green(outcome) : outcome === 'failure' ? red(outcome) : outcome
  let what = ''
  if (action === 'http-request') {
    const h = e.http ?? {}
    what = `${h.request?.method} ${e.url?.path}${e.url?.query ? `?${e.url.query}` : ''} ${h.response?.status_code}`
  } else if (action === 'db-query') {
    what = `${e.db?.query?.text ?? e.db?.query?.summary ?? ''}`.replace(/\s+/g, ' ')
    if (e.db?.response?.returned_rows !== undefined) what += dim(` rows=${e.db.response.returned_rows}`)
  } else if (e.audit?.monitor) {
    const m = e.audit.monitor
    what = m.rule
      ? `rule ${m.rule}: count ${m.count} > ${m.threshold}`
      : `${m.state} ${m.actor ? short(m.actor) : ''} by ${m.by}`
  } else if (e.audit?.resource) {
    const r = e.audit.resource
    what = `${r.type}${r.id ? ` ${r.id}` : ''}`
    if (e.audit.purpose) what += dim(` purpose=${e.audit.purpose}`)
    if (e.audit.details) what += dim(` ${JSON.stringify(e.audit.details)}`)
  } else if (action.startsWith('audit-')) {
    what = dim(
      `stream ${e.audit?.integrity?.stream ?? '?'}${e.audit?.integrity?.key ? ', k0 sealed to the verifier key' : ''}`,
    )
  } else if (e.audit?.session) {
    what = dim(`session ${e.audit.session}`)
  }
  if (e.event?.reason) what += ` ${yellow(`(${e.event.reason})`)}`
  if (what.length > 110 && !color) what = `${what.slice(0, 107)}...`
  return `${dim(`#${String(seq ?? '-').padStart(2)}`)} ${time} ${cyan(action.padEnd(22))} ${o.padEnd(color ? 16 : 7)} ${who}${roles}  ${what}`
}

function short(id) {
  return typeof id === 'string' && id.length > 14 ? `${id.slice(0, 12)}…` : String(id)
}

async function dropSchema(connectionString, schema) {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    await client.query(`drop schema if exists ${schema} cascade`)
  } finally {
    await client.end()
  }
}

async function cleanup() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()
    try {
      await fn()
    } catch (err) {
      process.stderr.write(`cleanup: ${err?.message ?? err}\n`)
    }
  }
}

function step(n, text) {
  console.log(`\n${bold(`${n}.`)} ${bold(text)}`)
}

function note(text) {
  console.log(`   ${text}`)
}

function redactUrl(url) {
  return String(url).replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}

function fail(message) {
  throw new Error(message)
}
