// The clinic's privacy monitor (docs/monitoring.md), shared by the Express and Nest clinics: an
// account reaching more patients than the breadth threshold within an hour is alerted on and
// blocked (403). Counting individuals needs the pseudonym key, so the monitor is on only with one.
// CLINIC_MONITOR_BREADTH lowers the threshold for the demo. With BOUNDARY_AUDIT_REDIS_URL set,
// replicas share the counts, the blocks and a scram through that Redis (ioredis installed).
// During a scram, /healthz (the probe) keeps answering: it is one of the default open routes.

/** The `monitor` option of createAuditLogger for the clinic, from its environment. */
export function clinicMonitor(env = process.env) {
  if (!env.BOUNDARY_AUDIT_PSEUDONYM_KEY) return undefined
  return {
    breadth: { threshold: Number(env.CLINIC_MONITOR_BREADTH || 100), windowSeconds: 3600 },
    enforcement: { block: ['breadth'] },
  }
}
