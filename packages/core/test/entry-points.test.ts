// The two entry points of @boundary-audit/core: the root (what an application uses) and
// `@boundary-audit/core/adapter` (what the framework adapters build on). The lists are the surface:
// a name added to either is a decision, made here on purpose. The built package is also loaded the
// way users load it (ESM import and CommonJS require, by package name) in a child process.

import { execFileSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as adapter from '../src/adapter'
import * as root from '../src/index'

const ROOT_VALUES = [
  'actorFromClaims',
  'compilePolicy',
  'conventionalActor',
  'createAuditLogger',
  // issue 15: the evidence report and streaming verification, for scheduled jobs
  'createEvidenceReport',
  'evidenceReport',
  'formatReport',
  'generateVerifierKeyPair',
  'hmacPseudonym',
  'loadPseudonymKey',
  'MONITOR_DEFAULTS',
  'parsePseudonym',
  'pseudonymize',
  'pseudonymKeyId',
  'pseudonymMatches',
  'readerPseudonymKeys',
  'redact',
  'redactText',
  'replayMonitor',
  'verifyLines',
  'verifyStream',
  'verifyText',
  'watchLogExporter',
]

const ADAPTER_VALUES = [
  'AUDIT_LOGGER_OPTION_KEYS',
  'auditUnavailable',
  'compileHttpAuditOptions',
  'currentHttpExchange',
  'httpExchangeOf',
  'installResponseCounting',
  'joinRoute',
  'normalizeIp',
  'refuseUnaudited',
  'respondRefused',
  'respondUnavailable',
  'routeTemplate',
  'splitUrl',
  'startHttpExchange',
  'templatize',
]

const coreDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

describe('entry points', () => {
  it('the root exports what an application uses, and nothing of the adapters’ plumbing', () => {
    expect(Object.keys(root).sort()).toEqual([...ROOT_VALUES].sort())
  })

  it('the adapter subpath exports the plumbing, none of it also on the root', () => {
    expect(Object.keys(adapter).sort()).toEqual([...ADAPTER_VALUES].sort())
    for (const name of ADAPTER_VALUES) expect(ROOT_VALUES).not.toContain(name)
  })

  it('the built package resolves both entry points by name, from ESM and from CommonJS', () => {
    // Run from the package folder: Node resolves its own package name through "exports".
    const script = `
      const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort().join(',')
      const esmRoot = await import('@boundary-audit/core')
      const esmAdapter = await import('@boundary-audit/core/adapter')
      const { createRequire } = await import('node:module')
      const require = createRequire(process.cwd() + '/package.json')
      const cjsRoot = require('@boundary-audit/core')
      const cjsAdapter = require('@boundary-audit/core/adapter')
      console.log(JSON.stringify([names(esmRoot), names(esmAdapter), names(cjsRoot), names(cjsAdapter)]))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: coreDir,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    })
    const [esmRoot, esmAdapter, cjsRoot, cjsAdapter] = JSON.parse(out) as string[]
    const rootNames = [...ROOT_VALUES].sort().join(',')
    const adapterNames = [...ADAPTER_VALUES].sort().join(',')
    expect({ esmRoot, cjsRoot }).toEqual({ esmRoot: rootNames, cjsRoot: rootNames })
    expect({ esmAdapter, cjsAdapter }).toEqual({ esmAdapter: adapterNames, cjsAdapter: adapterNames })
  })
})
