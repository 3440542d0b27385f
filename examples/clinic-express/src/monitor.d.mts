import type { MonitorOptions } from '@boundary-audit/core'

export function clinicMonitor(env?: NodeJS.ProcessEnv): MonitorOptions | undefined
