/**
 * `verify` and `report` read gigabytes and allocate fast: V8 then grows the young generation to its
 * maximum (about 100 MB on a machine with a large heap limit), and peak RSS with it. A V8 flag must be
 * given when the process starts, so the CLI runs these commands in a child `node` with a smaller young
 * generation (peak RSS at 1 M records: about 500 -> 300 MB for report). Standard streams are
 * inherited, signals passed on, the exit status returned. Not done when the flag is already given
 * (or BOUNDARY_AUDIT_NO_RESPAWN=1).
 *
 * For `report`, the old generation too: what its walk keeps for a while (the request ids in flight,
 * the individuals' sets) dies there at the pace records come, and V8 lets the heap grow to several
 * times what is live before a full collection. A growing factor of 2 (100%) bounds it: at 10 M
 * records (session 10, Node 24) peak RSS 376 MB for a report on one actor and 405 MB for one without
 * a filter (every record's facts reach the main thread), against 479 and 551 MB with V8's own
 * factor. A factor of 1.6 (60%, the setting before) held 393 / 401 MB but made the full
 * collections cost more: 20.9 µs of CPU a record against 17.9 (one 10 M run each, load 3-6). Not
 * for `verify`, which stays far below the bound without it (10 M: 355 MB) and would pay for it.
 */
import { spawn } from 'node:child_process'

export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=16'
export const HEAP_GROWING_FLAG = '--heap-growing-percent=100'
/** What the child runs `command` with (the benchmark runs its cases with the same). */
export function nodeFlagsFor(command: 'verify' | 'report'): readonly string[] {
  return command === 'report' ? [YOUNG_GENERATION_FLAG, HEAP_GROWING_FLAG] : [YOUNG_GENERATION_FLAG]
}

export function shouldRespawn(command: string | undefined): boolean {
  if (command !== 'verify' && command !== 'report') return false
  if (process.env.BOUNDARY_AUDIT_NO_RESPAWN === '1') return false
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? '']
  return !given.some((a) => a.includes('--max-semi-space-size'))
}

/** Runs this CLI again in a child with the flag; resolves with its exit status. */
export function respawn(script: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, ...nodeFlagsFor(args[0] === 'report' ? 'report' : 'verify'), script, ...args],
      {
        stdio: 'inherit',
        env: { ...process.env, BOUNDARY_AUDIT_NO_RESPAWN: '1' },
      },
    )
    const pass = (signal: NodeJS.Signals) => () => child.kill(signal)
    const onInt = pass('SIGINT')
    const onTerm = pass('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    const done = (code: number) => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      resolve(code)
    }
    child.on('error', () => done(2))
    child.on('exit', (code, signal) => done(code ?? (signal ? 2 : 0)))
  })
}
