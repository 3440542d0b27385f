// Types for scripts/callgrind-server.mjs.
export const CALLGRIND_NODE_FLAGS: string[]
export function requireValgrind(script: string): void
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
  path: string
  requests: number
  timeout: number
  /** The case the last column compares with (pino-http, nestjs-pino). */
  anchor: string
  keep: boolean
  title?: string
  /** Added to every server's environment. */
  env?: Record<string, string>
  /** Cases counted side by side (default 2). */
  parallel?: number
}): Promise<Map<string, number>>
