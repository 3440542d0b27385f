#!/usr/bin/env node
// Node.js binaries for the versions we support, from the npm registry's `node-<platform>-<arch>`
// packages (the official builds, published by the Node.js project), fetched with the ordinary npm
// client (`npm pack`, which checks the registry's integrity hash) and cached per exact version under
// ~/.cache/boundary-audit/node (BOUNDARY_AUDIT_NODE_CACHE overrides). CI (.ci/run) and developers use
// the same script:
//
//   node scripts/node-versions.mjs run 24 -- npx vitest run packages/core   # a command on Node 24
//   node scripts/node-versions.mjs bin 22                                   # the directory holding `node`
//   node scripts/node-versions.mjs fetch 22 24                              # fetch ahead of time
//
// A major ("24") resolves to the newest 24.x in the registry; when the registry cannot be asked, the
// newest cached 24.x is used. "system" means the `node` already on PATH.
// Plain Node ESM with no dependencies, so it runs before `npm ci`.

import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const cacheRoot = process.env.BOUNDARY_AUDIT_NODE_CACHE || join(homedir(), '.cache', 'boundary-audit', 'node')
const platform = process.platform === 'win32' ? 'win' : process.platform
const packageName = `node-${platform}-${process.arch}`
const binDirOf = (root) => (platform === 'win' ? root : join(root, 'bin'))

function npm(args, options = {}) {
  return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  })
}

/** Numeric comparison of "x.y.z" versions. */
function compareVersions(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i]
  return 0
}

function cachedVersions(major) {
  if (!existsSync(cacheRoot)) return []
  return readdirSync(cacheRoot)
    .filter((name) => name.startsWith(`${major}.`) && existsSync(join(cacheRoot, name, '.complete')))
    .sort(compareVersions)
}

/** The newest published version of a major, or undefined when the registry cannot be asked. */
function newestPublished(major) {
  try {
    const out = JSON.parse(npm(['view', `${packageName}@${major}`, 'version', '--json']))
    const versions = (Array.isArray(out) ? out : [out]).filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    return versions.sort(compareVersions).at(-1)
  } catch {
    return undefined
  }
}

/** Downloads one exact version with `npm pack` and unpacks it into the cache (atomically). */
function download(version) {
  mkdirSync(cacheRoot, { recursive: true })
  const work = mkdtempSync(join(cacheRoot, `.tmp-${version}-`))
  try {
    process.stderr.write(`node-versions: fetching ${packageName}@${version} from the npm registry\n`)
    const packed = JSON.parse(
      npm(['pack', `${packageName}@${version}`, '--json', '--pack-destination', work]),
    )
    const tarball = join(work, packed[0].filename)
    const unpacked = join(work, 'unpacked')
    mkdirSync(unpacked)
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'])
    rmSync(tarball)
    const reported = execFileSync(join(binDirOf(unpacked), 'node'), ['--version'], {
      encoding: 'utf8',
    }).trim()
    if (reported !== `v${version}`) throw new Error(`the binary says ${reported}, expected v${version}`)
    execFileSync('touch', [join(unpacked, '.complete')])
    const target = join(cacheRoot, version)
    try {
      renameSync(unpacked, target)
    } catch (error) {
      // Another process cached the same version meanwhile: keep theirs.
      if (!existsSync(join(target, '.complete'))) throw error
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** The directory holding the `node` binary of a major ("24"), an exact version ("24.9.0") or "system". */
export function nodeBinDir(spec) {
  if (spec === 'system') return undefined
  if (!/^\d+(\.\d+\.\d+)?$/.test(spec)) throw new Error(`node-versions: "${spec}" is not a major or x.y.z`)
  const major = spec.split('.')[0]
  const version = spec.includes('.') ? spec : newestPublished(major)
  if (version === undefined) {
    const cached = cachedVersions(major).at(-1)
    if (cached === undefined)
      throw new Error(`node-versions: no Node ${major} cached and the npm registry cannot be asked`)
    process.stderr.write(`node-versions: the registry cannot be asked, using cached ${cached}\n`)
    return binDirOf(join(cacheRoot, cached))
  }
  if (!existsSync(join(cacheRoot, version, '.complete'))) download(version)
  return binDirOf(join(cacheRoot, version))
}

/** The environment of a child process that runs on `spec`'s node (npm and npx follow PATH too). */
export function envFor(spec, env = process.env) {
  const dir = nodeBinDir(spec)
  if (dir === undefined) return env
  const pathKey = Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH'
  return { ...env, [pathKey]: `${dir}${delimiter}${env[pathKey] ?? ''}` }
}

function main(argv) {
  const [command, ...rest] = argv
  if (command === 'bin') {
    for (const spec of rest) console.log(nodeBinDir(spec) ?? '')
    return 0
  }
  if (command === 'fetch') {
    for (const spec of rest) nodeBinDir(spec)
    return 0
  }
  if (command === 'run') {
    const dash = rest.indexOf('--')
    const [spec, ...cmd] = dash === -1 ? rest : [rest[0], ...rest.slice(dash + 1)]
    if (spec === undefined || cmd.length === 0) return usage()
    const result = spawnSync(cmd[0], cmd.slice(1), {
      stdio: 'inherit',
      env: envFor(spec),
      shell: process.platform === 'win32',
    })
    if (result.error) throw result.error
    return result.status ?? 1
  }
  return usage()
}

function usage() {
  console.error(
    'usage: node scripts/node-versions.mjs run <major|x.y.z|system> -- <command...>\n' +
      '       node scripts/node-versions.mjs bin <major>...\n' +
      '       node scripts/node-versions.mjs fetch <major>...',
  )
  return 2
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2))
