import type { IncomingMessage } from 'node:http'

/**
 * Request -> exchange, found from the request alone (Layer hooks, response counting, Nest guards).
 *
 * Where the association lives decides much of the per-request cost (Node 20, Express 5, measured with
 * the bench's floor cases): a WeakMap entry per request costs ~9 us of CPU per request, nearly all of
 * it in the scavenger (every entry is an ephemeron the GC must trace), and a property added to the
 * request ~3 us (Express gives every request its own hidden class, so V8 builds a new one on each
 * addition). A list on the request's socket costs nothing measurable: sockets are created by Node,
 * share one hidden class, live across keep-alive requests, and hold one entry per request in
 * flight (several when the client pipelines). Entries leave the list when their response closes, so
 * an idle connection keeps nothing alive.
 *
 * HTTP/2 compatibility requests share one session socket among many streams and hand out a proxy
 * for it, so they (and anything without a socket object) use a WeakMap instead.
 *
 * Both builds of core (ESM and CommonJS may be loaded together) and both adapters must see the same
 * entries: the socket slot is a global symbol, and the WeakMap is kept on globalThis.
 */
export interface Tracked {
  readonly req: IncomingMessage
  readonly done: boolean
}

const SOCKET_SLOT = Symbol.for('boundary-audit.http-exchanges.in-flight')
const fallbackKey = Symbol.for('boundary-audit.http-exchanges')
const fallbackHolder = globalThis as { [fallbackKey]?: WeakMap<object, Tracked> }
if (!fallbackHolder[fallbackKey]) fallbackHolder[fallbackKey] = new WeakMap()
const fallback: WeakMap<object, Tracked> = fallbackHolder[fallbackKey]

// A response that never closes (no such case is known on Node 20) must not let one long-lived
// connection's list grow without bound. Far beyond any real pipelining depth.
const MAX_IN_FLIGHT_PER_SOCKET = 1024

type Slotted = { [SOCKET_SLOT]?: Tracked[] }

// The request looked up last: the Layer hooks and the response counters ask for the same request
// several times in a row, and reading `req.socket` is slow on requests Express has re-prototyped
// (each one gets its own hidden class, so every property read misses V8's inline caches). Entries
// whose event is written are never answered from here (another build of core may have untracked it).
let lastReq: IncomingMessage | undefined
let lastEntry: Tracked | undefined

function socketOf(req: IncomingMessage): Slotted | undefined {
  const socket = req.socket as unknown
  if (socket === null || typeof socket !== 'object' || req.httpVersionMajor !== 1) return undefined
  return socket as Slotted
}

export function track(req: IncomingMessage, entry: Tracked): void {
  lastReq = req
  lastEntry = entry
  const socket = socketOf(req)
  if (socket !== undefined) {
    let list = socket[SOCKET_SLOT]
    if (list === undefined) {
      try {
        list = []
        socket[SOCKET_SLOT] = list
      } catch {
        // A frozen socket (an unusual test double): fall back to the WeakMap.
        fallback.set(req, entry)
        return
      }
    }
    if (list.length >= MAX_IN_FLIGHT_PER_SOCKET) list.shift()
    list.push(entry)
    return
  }
  fallback.set(req, entry)
}

export function lookup(req: IncomingMessage): Tracked | undefined {
  if (req === lastReq && lastEntry !== undefined && !lastEntry.done) return lastEntry
  const list = socketOf(req)?.[SOCKET_SLOT]
  // A socket with a list takes all its requests' entries.
  if (list === undefined) return fallback.get(req)
  // Newest first: without pipelining the list has one entry.
  for (let i = list.length - 1; i >= 0; i--) {
    const entry = list[i] as Tracked
    if (entry.req === req) {
      lastReq = req
      lastEntry = entry
      return entry
    }
  }
  return undefined
}

/** Called once the request's event is written: the request is no longer in flight. */
export function untrack(req: IncomingMessage, entry: Tracked): void {
  if (lastReq === req) {
    lastReq = undefined
    lastEntry = undefined
  }
  const list = socketOf(req)?.[SOCKET_SLOT]
  if (list === undefined) {
    if (fallback.get(req) === entry) fallback.delete(req)
    return
  }
  const i = list.lastIndexOf(entry)
  if (i === -1) return
  // In place (splice would allocate the array of removed entries on every request).
  for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j] as Tracked
  list.pop()
}
