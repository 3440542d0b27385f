// Types for scripts/callgrind-server.mjs.
export const CALLGRIND_NODE_FLAGS: string[]
export function requireValgrind(script: string): void
/** What a `drive` function gets besides the child's first message. */
export interface CountControl {
  child: import('node:child_process').ChildProcess
  /** Sends `message` over IPC and resolves with the child's next message. */
  request(message: unknown): Promise<unknown>
  /** Zeroes the count (callgrind_control --zero). */
  zero(): void
  /** Dumps the count that is read afterwards (callgrind_control --dump). */
  dump(): void
}
/**
 * Instructions per unit of work of `node script ...args` under callgrind (every thread): the child
 * sends one IPC message when ready; `drive` warms up, zeroes, does the measured work, dumps and
 * returns how many units it measured.
 */
export function countProcess(options: {
  script: string
  args: string[]
  work: string
  env?: Record<string, string>
  drive(ready: unknown, control: CountControl): Promise<number>
  /** Also count V8's optimising compilers: then `{ total, compilers }` per unit. */
  compilers?: boolean
  /** More node flags (analysis only, e.g. --perf-basic-prof). */
  nodeFlags?: string[]
}): Promise<number | { total: number; compilers: number }>
/** Instructions per request of `node script ...args` under callgrind (N requests after 4N warm-up). */
export function countInstructions(options: {
  /** The server's entry (a bundle): a child process that sends `{ port }` over IPC once listening. */
  script: string
  args: string[]
  /** A directory for the callgrind files (one subdirectory per run). */
  work: string
  /** Path requested, e.g. `/hello`. */
  path: string
  requests: number
  /** Seconds a response may take. */
  timeout: number
  /** Added to the server's environment. */
  env?: Record<string, string>
}): Promise<number>
/** Bundles a server from the packages' sources (batch delay stretched to 1 s) into a new directory of the package's .tmp. */
export function bundleServer(options: {
  entry: string
  external: string[]
}): Promise<{ bundle: string; work: string }>
/** Counts every case two at a time (or `parallel`) and prints the table (ratios to `bare` and `anchor`). */
export function countAndReport(options: {
  bundle: string
  cases: string[]
  work: string
  /** Path requested (the default count only). */
  path?: string
  /** N: measured after 4N of warm-up. */
  requests: number
  /** Seconds a response may take (the default count only). */
  timeout?: number
  /** The case the last column compares with (pino-http, nestjs-pino). */
  anchor: string
  keep: boolean
  title?: string
  /** Added to every server's environment. */
  env?: Record<string, string>
  /** Cases counted side by side (default 2). */
  parallel?: number
  /**
   * Counts one case (default: countInstructions on `bundle` with `[kase]`); `{ total, compilers }`
   * makes the table give the compilers' part and take its ratios without it.
   */
  count?: (kase: string) => Promise<number | { total: number; compilers: number }>
  /** What is counted per (default `request`). */
  unit?: string
  /** Its plural (default unit + 's'). */
  units?: string
  /** The case of the first ratio column (default `bare`). */
  bare?: string
}): Promise<Map<string, number | { total: number; compilers: number }>>
