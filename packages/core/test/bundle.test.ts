/**
 * A bundled app (esbuild --bundle --platform=node, as the docs show): the sealing thread's script is
 * not next to the bundle, so without help the logger seals inline and says so once on stderr; with
 * `BOUNDARY_AUDIT_SEAL_WORKER` (or the script bundled next to the app) the thread runs. Uses core's
 * built dist, as an app does (`npm test` builds first).
 */
import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyText } from '../src/index'

const here = dirname(fileURLToPath(import.meta.url))
const dist = join(here, '..', 'dist')
const dir = mkdtempSync(join(tmpdir(), 'ba-bundle-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

beforeAll(async () => {
  // The app, core and its dependencies in one file, in a directory with no node_modules.
  await build({
    entryPoints: [join(here, 'fixtures', 'bundled-app.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile: join(dir, 'app', 'app.cjs'),
    logLevel: 'silent',
  })
  // The sealing thread's script, bundled with its own dependencies (what the docs tell users to do).
  await build({
    entryPoints: [join(dist, 'seal-worker.cjs')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile: join(dir, 'workers', 'seal-worker.cjs'),
    logLevel: 'silent',
  })
}, 120_000)

function run(
  app: string,
  env: Record<string, string> = {},
): Promise<{ stderr: string; out: string; code: number }> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.ndjson`)
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [app],
      {
        timeout: 30_000,
        env: {
          ...process.env,
          ...env,
          OUT: out,
          BOUNDARY_AUDIT_SEAL_WORKER: env.BOUNDARY_AUDIT_SEAL_WORKER ?? '',
        },
      },
      (err, _stdout, stderr) => {
        // An app that failed at creation wrote no file: resolve anyway (a throw in this callback
        // would leave the promise pending until the test timed out).
        resolve({
          stderr,
          out: existsSync(out) ? readFileSync(out, 'utf8') : '',
          code: err ? Number((err as { code?: number }).code ?? 1) : 0,
        })
      },
    )
  })
}

function expectVerified(text: string) {
  const report = verifyText(text)
  expect(report.exitCode).toBe(0)
  expect(report.streams[0]!.closed).toBe(true)
  expect(text.trim().split('\n')).toHaveLength(202)
}

describe('bundled with esbuild', () => {
  it('without the script next to the bundle: sealed inline, and a warning says how to fix it', async () => {
    const r = await run(join(dir, 'app', 'app.cjs'))
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('sealing: inline')
    expect(r.stderr).toMatch(/seal-worker\.cjs\) was not found.*BOUNDARY_AUDIT_SEAL_WORKER/)
    expect(r.stderr.match(/was not found/g)).toHaveLength(1)
    expectVerified(r.out)
  })

  it('BOUNDARY_AUDIT_SEAL_WORKER pointing at the bundled script: the sealing thread runs', async () => {
    const r = await run(join(dir, 'app', 'app.cjs'), {
      BOUNDARY_AUDIT_SEAL_WORKER: join(dir, 'workers', 'seal-worker.cjs'),
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('sealing: worker')
    expect(r.stderr).not.toMatch(/sealing thread/)
    expectVerified(r.out)
  })

  it('the script bundled next to the app is found without configuration', async () => {
    mkdirSync(join(dir, 'side'), { recursive: true })
    copyFileSync(join(dir, 'app', 'app.cjs'), join(dir, 'side', 'app.cjs'))
    copyFileSync(join(dir, 'workers', 'seal-worker.cjs'), join(dir, 'side', 'seal-worker.cjs'))
    const r = await run(join(dir, 'side', 'app.cjs'))
    expect(r.stderr).toContain('sealing: worker')
    expectVerified(r.out)
  })

  it('the package exports the script by name, for bundler configs (webpack entry, copy plugins)', () => {
    const require = createRequire(import.meta.url)
    expect(require.resolve('@boundary-audit/core/seal-worker.cjs')).toBe(
      realpathSync(join(dist, 'seal-worker.cjs')),
    )
  })

  it('a path that names no file fails at creation, saying what to change', async () => {
    const r = await run(join(dir, 'app', 'app.cjs'), { BOUNDARY_AUDIT_SEAL_WORKER: join(dir, 'nope.cjs') })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/BOUNDARY_AUDIT_SEAL_WORKER names no file/)
    expect(r.out).toBe('')
  })
})
