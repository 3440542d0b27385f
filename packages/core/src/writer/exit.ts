/**
 * Last-chance writes at process end, without changing how the host process exits.
 *
 * - 'beforeExit' (the event loop ran dry): each live logger finishes asynchronously (closing
 *   record, flush). The pending write keeps the loop alive; nothing else changes.
 * - 'exit' (process.exit(), an uncaught exception, also one thrown while a SIGTERM shutdown is
 *   under way): only synchronous work is possible, so each logger not yet finished writes
 *   synchronously, bounded by its shutdown deadline. Listening to 'exit' changes nothing about exiting.
 * - SIGTERM / SIGINT: Node's default is to die at once, skipping both. If the host has its own
 *   handler, it decides (process.exit reaches 'exit', a graceful drain reaches 'beforeExit', and
 *   `await audit.close()` is bounded by the same deadline). If ours is the only handler, we finish
 *   asynchronously (so a write in flight lands before the closing record, in order), remove
 *   ourselves and re-raise the signal: the process still dies of it, with the same exit status as
 *   without us, at the latest when the deadline has passed.
 *
 * A logger stays registered until its close has finished, so an 'exit' in the middle of an
 * asynchronous finish still writes what that finish had not yet written.
 */
export interface ExitHook {
  /** Closes and writes; resolves by the logger's deadline at the latest. */
  finish(reason: string): Promise<void>
  /** Closes and writes synchronously, bounded by the logger's deadline. */
  finishSync(reason: string): void
  /** Longest `finish` may take, in ms. */
  readonly timeoutMs: number
}

const live = new Set<WeakRef<ExitHook>>()
let installed = false

export function registerExitHook(hook: ExitHook): () => ExitHook {
  const ref = new WeakRef(hook)
  live.add(ref)
  install()
  // The returned function holds the hook strongly: the hook lives exactly as long as its logger
  // (which keeps this function), and an abandoned logger does not stay in the set forever.
  return () => {
    live.delete(ref)
    return hook
  }
}

function liveHooks(): ExitHook[] {
  const hooks: ExitHook[] = []
  for (const ref of live) {
    const hook = ref.deref()
    if (hook) hooks.push(hook)
    else live.delete(ref)
  }
  return hooks
}

function finishAllSync(reason: string): void {
  for (const hook of liveHooks()) {
    try {
      hook.finishSync(reason)
    } catch {
      // at exit there is nobody left to tell
    }
  }
}

function finishAll(reason: string): Promise<unknown> {
  return Promise.all(liveHooks().map((hook) => hook.finish(reason).catch(() => {})))
}

function install(): void {
  if (installed) return
  installed = true
  process.on('exit', () => finishAllSync('process-exit'))
  process.on('beforeExit', () => {
    if (live.size > 0) void finishAll('process-exit')
  })
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return // the host's handler decides what happens next
      process.removeListener(signal, onSignal)
      const die = () => process.kill(process.pid, signal)
      // Each finish ends by its own deadline; this is the backstop should one not.
      const longest = Math.max(0, ...liveHooks().map((h) => h.timeoutMs))
      setTimeout(die, longest + 1000).unref()
      finishAll(signal).then(die, die)
    }
    process.on(signal, onSignal)
  }
}
