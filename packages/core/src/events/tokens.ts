import { redactText } from '../redact/index'
import type { BuildEnv } from './record'

/**
 * Entries kept in event.category / event.type. ECS defines 20 categories and 18 types and a record
 * names one to three; the cap keeps a caller's list (3,000 or 100,000 entries) from making the line
 * longer than the 16 KiB a container runtime carries in one piece.
 */
export const MAX_TOKENS = 16

/** The ECS values: a list made only of these (the usual case) is kept as it is, no copy. */
const ECS_VALUES = new Set([
  // event.category
  'api',
  'authentication',
  'configuration',
  'database',
  'driver',
  'email',
  'file',
  'host',
  'iam',
  'intrusion_detection',
  'library',
  'malware',
  'network',
  'package',
  'process',
  'registry',
  'session',
  'threat',
  'vulnerability',
  'web',
  // event.type
  'access',
  'admin',
  'allowed',
  'change',
  'connection',
  'creation',
  'deletion',
  'denied',
  'device',
  'end',
  'error',
  'group',
  'indicator',
  'info',
  'installation',
  'protocol',
  'start',
  'user',
])

/**
 * event.category / event.type from the caller: a string or a list of them. At most MAX_TOKENS
 * entries, each a clean token (values outside ECS's lists pass the detectors like any caller text);
 * entries that are not strings are left out. Returns whether the list was cut, so the record can say so.
 */
export function tokenList(value: unknown, env: BuildEnv): { list: string[]; cut: boolean } {
  if (!Array.isArray(value)) {
    return { list: typeof value === 'string' ? [cleanToken(value, 'unknown', env)] : [], cut: false }
  }
  const n = value.length
  if (n <= MAX_TOKENS) {
    let known = true
    for (let i = 0; i < n && known; i++) known = ECS_VALUES.has(value[i])
    if (known) return { list: value as string[], cut: false }
  }
  const list: string[] = []
  for (let i = 0; i < n && list.length < MAX_TOKENS; i++) {
    const v = value[i]
    if (typeof v === 'string') list.push(cleanToken(v, 'unknown', env))
  }
  return { list, cut: list.length < n && n > MAX_TOKENS }
}

/** Actions, resource types, categories: identifiers of our vocabulary, never free text. */
export function cleanToken(value: unknown, fallback: string, env: BuildEnv): string {
  if (typeof value !== 'string') return fallback
  // Actions and resource types are a small vocabulary that repeats on every event: the clean ones
  // are remembered. One that cleaning changed is not (it may hold what a detector found), and is
  // cleaned again each time.
  if (env.tokens.has(value)) return value
  const token = cleanTokenUncached(value, fallback, env)
  if (token === value) env.tokens.add(value)
  return token
}

function cleanTokenUncached(value: string, fallback: string, env: BuildEnv): string {
  // Still free text from the caller's point of view: an id pasted into an action name is caught here,
  // before the character clean-up (which would turn "jane@example.org" into an undetectable "jane-example.org").
  const t = redactText(value.slice(0, 256), env.policy)
    .replace(/[^A-Za-z0-9._:[\]-]+/g, '-')
    .slice(0, 128)
  return t.length === 0 ? fallback : t
}
