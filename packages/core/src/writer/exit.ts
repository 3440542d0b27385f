/**
 * Last-chance writes at process end, without changing how the host process exits.
 *
 * - 'beforeExit' (the event loop ran dry): each live logger finishes asynchronously (closing
 *   record, flush). The pending write keeps the loop alive; nothing else changes.
 * - 'exit' (process.exit(), an uncaught exception): only synchronous work is possible, so each live
 *   logger finishes with flushSync. Listening to 'exit' changes nothing about exiting.
 * - SIGTERM / SIGINT: Node's default is to die at once, skipping both. If the host has its own
 *   handler, it decides (process.exit reaches 'exit', a graceful drain reaches 'beforeExit'). If ours
 *   is the only handler, we finish asynchronously (so a write already in flight lands before the
 *   closing record, in order), remove ourselves and re-raise the signal: the process still dies of
 *   it, with the same exit status as without us.
 */
export interface ExitHook {
  finish(reason: string): Promise<void>
  finishSync(reason: string): void
}

/** A stuck destination must not keep a signalled process alive for long. */
const SIGNAL_GRACE_MS = 3000

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

function takeAll(): ExitHook[] {
  const hooks: ExitHook[] = []
  for (const ref of live) {
    live.delete(ref)
    const hook = ref.deref()
    if (hook) hooks.push(hook)
  }
  return hooks
}

function finishAllSync(reason: string): void {
  for (const hook of takeAll()) {
    try {
      hook.finishSync(reason)
    } catch {
      // at exit there is nobody left to tell
    }
  }
}

async function finishAll(reason: string): Promise<void> {
  await Promise.all(takeAll().map((hook) => hook.finish(reason).catch(() => {})))
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
      setTimeout(die, SIGNAL_GRACE_MS).unref()
      finishAll(signal).then(die, die)
    }
    process.on(signal, onSignal)
  }
}
