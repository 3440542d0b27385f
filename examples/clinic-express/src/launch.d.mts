export interface RunningClinic {
  url: string
  pid: number
  stderr(): string
  /** Waits for stdout to go quiet, signals (default SIGTERM), resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}
export function startClinic(options: {
  args: string[]
  env?: Record<string, string>
  stdoutFile: string
  cwd?: string
  startTimeoutMs?: number
}): Promise<RunningClinic>
