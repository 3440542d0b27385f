// Errors as audit data: type, code and a sanitised message. Never the stack (paths, and in some
// drivers the failing values), never toString() (it may be overridden), never pg's detail/where.
import { MAX_STRING } from './limits'
import type { Compiled } from './policy'
import { scrub } from './scrub'

export interface ErrorDescription {
  type: string
  message?: string
  code?: string
}

function read(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

/**
 * The error's type: its `name` when that reads like a class name (`TypeError`, `NotFoundException`),
 * else its class. pg's DatabaseError carries the protocol message name (`error`) in `name`: the class
 * name then, the same rule as the pg adapter's, so one error has one `error.type` on every event.
 */
function typeName(err: object, fallback: string): string {
  const name = read(err, 'name')
  if (typeof name === 'string' && /^[A-Z]/.test(name)) return name
  try {
    const ctor = Object.getPrototypeOf(err)?.constructor?.name
    if (typeof ctor === 'string' && ctor.length > 0 && ctor !== 'Object') return ctor
  } catch {
    // a Proxy whose getPrototypeOf trap throws
  }
  if (typeof name === 'string' && name.length > 0) return name
  return fallback
}

function isError(v: object): boolean {
  try {
    return v instanceof Error || Object.prototype.toString.call(v) === '[object Error]'
  } catch {
    return false
  }
}

/** Describes an error with the policy's compiled form (used by the walk). */
export function describeWith(err: unknown, c: Compiled): ErrorDescription {
  try {
    if (err === null || err === undefined) return { type: String(err) }
    if (typeof err === 'string') return { type: 'string', message: scrub(err, c, 1024) }
    if (typeof err !== 'object' && typeof err !== 'function') {
      return { type: typeof err, message: scrub(String(err), c, 256) }
    }
    const out: ErrorDescription = {
      type: scrub(typeName(err, isError(err) ? 'Error' : 'Object'), c, 128) || 'Error',
    }
    const message = read(err, 'message')
    if (typeof message === 'string' && message.length > 0) out.message = scrub(message, c, MAX_STRING / 2)
    const code = read(err, 'code')
    if (typeof code === 'string' || typeof code === 'number') {
      const s = scrub(String(code), c, 64)
      if (s.length > 0) out.code = s
    }
    return out
  } catch {
    return { type: 'Unknown' }
  }
}
