/**
 * The built package, as users run it: the `boundary-audit` bin (dist/cli.js) and child processes
 * that import `@boundary-audit/core` (dist/). `npm test` builds first.
 *
 * Why not `node --import tsx src/...` in every child: tsx's loader costs about 0.35 s of CPU per
 * process (0.6 s for `verify --help` against 0.26 s built, Node 24), and the suite starts about a
 * hundred such processes on each Node version CI runs. The sealing and verify threads ran from
 * dist/ already (built-script.ts), so these tests depended on a build before.
 *
 * A dist/ older than any source file would test yesterday's code without saying so: refused.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')

const newest = new Map<string, { file: string; mtimeMs: number }>()

function newestSource(pkgDir: string): { file: string; mtimeMs: number } {
  const known = newest.get(pkgDir)
  if (known) return known
  let found = { file: '', mtimeMs: 0 }
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (!entry.name.endsWith('.test.ts')) {
        const { mtimeMs } = statSync(path)
        if (mtimeMs > found.mtimeMs) found = { file: path, mtimeMs }
      }
    }
  }
  walk(join(pkgDir, 'src'))
  newest.set(pkgDir, found)
  return found
}

/**
 * The path of a built file of the workspace package in `pkgDir` (`index.js` of packages/express),
 * refused when missing or older than that package's src/.
 */
export function builtOf(pkgDir: string, file: string): string {
  const path = join(pkgDir, 'dist', file)
  const name = relative(join(pkg, '..', '..'), pkgDir)
  const build = 'build first: `npm run build` (or `npx turbo run build --force`); `npm test` does'
  if (!existsSync(path)) throw new Error(`${name}/dist/${file} is missing: ${build}`)
  const source = newestSource(pkgDir)
  if (statSync(path).mtimeMs < source.mtimeMs) {
    throw new Error(`${name}/dist/${file} is older than ${relative(pkgDir, source.file)}: ${build}`)
  }
  return path
}

/** The path of a built file of core (`cli.js`, `index.js`), refused when missing or older than src/. */
export function built(file: string): string {
  return builtOf(pkg, file)
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/**
 * `boundary-audit ARGS` in a child process: exit code and output. Standard input gets `stdin` (or
 * is closed); `env` is added to this process's environment, NO_COLOR set.
 */
export function runCli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const cli = built('cli.js')
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      {
        cwd: pkg,
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr })
      },
    )
    child.stdin!.end(options.stdin)
  })
}

/**
 * A fixture of test/fixtures (plain .mjs) for a child process: it imports `@boundary-audit/core`,
 * i.e. the built dist/index.js, which must be current.
 */
export function builtFixture(name: string): string {
  built('index.js')
  return join(pkg, 'test', 'fixtures', name)
}
