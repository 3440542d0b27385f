/**
 * Last-chance writes at process end, without changing how the host process exits.
 *
 * - 'exit' (normal end, process.exit(), an uncaught exception): each live logger finishes
 *   synchronously (closing record, flushSync). Listening to 'exit' changes nothing about exiting.
 * - SIGTERM / SIGINT: Node's default is to die at once, skipping 'exit'. If the host has its own
 *   handler, it decides (and usually calls process.exit, which reaches 'exit' above); we only
 *   flush. If ours is the only handler, we finish, remove ourselves and re-raise the signal so the
 *   process still dies of it, with the same exit status as without us.
 */
export interface ExitHook {
  finishSync(reason: string): void
}

const live = new Set<WeakRef<ExitHook>>()
let installed = false

export function registerExitHook(hook: ExitHook): () => void {
  const ref = new WeakRef(hook)
  live.add(ref)
  install()
  return () => {
    live.delete(ref)
  }
}

function finishAll(reason: string): void {
  for (const ref of live) {
    const hook = ref.deref()
    live.delete(ref)
    if (!hook) continue
    try {
      hook.finishSync(reason)
    } catch {
      // at exit there is nobody left to tell
    }
  }
}

function install(): void {
  if (installed) return
  installed = true
  process.on('exit', () => finishAll('process-exit'))
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      finishAll(signal)
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, onSignal)
  }
}
