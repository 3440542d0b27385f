// What the HTTP adapters answer when the privacy monitor refuses a request (see docs/monitoring.md):
// 403 for a blocked actor, 503 during a scram. The body says nothing about why: the trail does.
import type { ServerResponse } from 'node:http'
import type { AuditMonitor } from '../monitor/types'

export const BLOCKED_REASON = 'refused: the actor is blocked by the privacy monitor'
export const SCRAM_REASON = 'refused: the privacy monitor has scrammed the service'

/** The monitor's verdict for an actor and path; 0 (go on) when there is no monitor or it fails. */
export function monitorVerdict(
  monitor: AuditMonitor | undefined,
  actorId: string | undefined,
  path: string,
  reachesPhi?: boolean,
): 0 | 403 | 503 {
  if (monitor === undefined || monitor.active !== true) return 0
  try {
    return monitor.verdict(actorId, path, reachesPhi)
  } catch {
    return 0
  }
}

/** Answers 403 or 503 without running the handler. */
export function respondRefused(res: ServerResponse, status: 403 | 503): void {
  try {
    if (!res.headersSent) {
      res.statusCode = status
      res.setHeader('content-type', 'text/plain; charset=utf-8')
      res.setHeader('cache-control', 'no-store')
      if (status === 503) res.setHeader('retry-after', '60')
    }
    res.end(status === 403 ? 'Forbidden' : 'Service Unavailable')
  } catch {
    // The socket may already be gone.
  }
}
