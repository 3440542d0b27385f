import type { AuditLogger } from '@boundary-audit/core'
import type { IgnoreRule, PgAuditOptions, QueryInfo, StatementTextMode } from './types'

/** Options after validation: every field present. */
export interface ResolvedOptions {
  ignoreStrings: ReadonlySet<string>
  ignorePatterns: readonly RegExp[]
  ignoreFunctions: readonly ((query: QueryInfo) => boolean)[]
  slowQueryNs: number
  statementText: StatementTextMode
  maxTextLength: number
}

const KNOWN = new Set(['ignore', 'slowQueryMs', 'statementText', 'maxTextLength'])
const MODES: readonly StatementTextMode[] = ['normalized', 'summary', 'none']

function fail(message: string): never {
  throw new TypeError(`boundary-audit: ${message}`)
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

/** The comparison form of a string ignore rule and of a statement checked against it. */
export function canonicalStatement(text: string): string {
  return text.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ').toLowerCase()
}

/** Checks the audit logger argument of wrapPool / wrapClient / instrumentPg. */
export function checkAudit(audit: unknown, fn: string): AuditLogger {
  if (!audit || typeof (audit as AuditLogger).dbQuery !== 'function') {
    fail(`${fn}(..., audit) needs the logger from createAuditLogger(); got ${show(audit)}`)
  }
  return audit as AuditLogger
}

/** Validates options at creation, with a message that says what to change. */
export function resolveOptions(options: PgAuditOptions | undefined): ResolvedOptions {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    fail(`pg options must be an object; got ${show(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      fail(`unknown pg option "${key}"; known options are ${[...KNOWN].join(', ')}`)
    }
  }

  const rules: readonly unknown[] =
    options.ignore === undefined ? [] : Array.isArray(options.ignore) ? options.ignore : [options.ignore]
  const ignoreStrings = new Set<string>()
  const ignorePatterns: RegExp[] = []
  const ignoreFunctions: ((q: QueryInfo) => boolean)[] = []
  rules.forEach((rule: unknown, index) => {
    if (typeof rule === 'string') {
      if (rule.trim() === '')
        fail(`pg option ignore[${index}] is an empty string; give a statement such as 'SELECT 1'`)
      ignoreStrings.add(canonicalStatement(rule))
    } else if (rule instanceof RegExp) {
      // A global or sticky RegExp keeps state between test() calls; a copy without those flags does not.
      ignorePatterns.push(new RegExp(rule.source, rule.flags.replace(/[gy]/g, '')))
    } else if (typeof rule === 'function') {
      ignoreFunctions.push(rule as (q: QueryInfo) => boolean)
    } else {
      fail(`pg option ignore[${index}] must be a string, a RegExp or a function; got ${show(rule)}`)
    }
  })

  const slow = options.slowQueryMs
  if (slow !== undefined && (typeof slow !== 'number' || !Number.isFinite(slow) || slow < 0)) {
    fail(`pg option slowQueryMs must be a number of milliseconds >= 0; got ${show(slow)}`)
  }

  const mode = options.statementText ?? 'normalized'
  if (!MODES.includes(mode)) {
    fail(`pg option statementText must be one of ${MODES.map((m) => `'${m}'`).join(', ')}; got ${show(mode)}`)
  }

  const max = options.maxTextLength ?? 2048
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 32 || max > 16384) {
    fail(`pg option maxTextLength must be an integer from 32 to 16384; got ${show(max)}`)
  }

  return {
    ignoreStrings,
    ignorePatterns,
    ignoreFunctions,
    slowQueryNs: slow === undefined ? Number.POSITIVE_INFINITY : slow * 1e6,
    statementText: mode,
    maxTextLength: max,
  }
}

export type { IgnoreRule }
