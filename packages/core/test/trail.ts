/**
 * Synthetic audit trails sealed with the real chain code (createChain), for the verifier's and the
 * report's tests and the verify benchmark: streams of access events by a few actors on a few
 * patients, with checkpoints, as a service writes them.
 */
import { type Chain, createChain, generateVerifierKeyPair } from '../src/integrity/index'

export const keys = generateVerifierKeyPair()

export interface TrailEvent {
  actor: string
  patient?: string
  session?: string
  ip?: string
  requestId?: string
  /** An http-request record (with `path`) instead of an access event. */
  path?: string
  action?: string
}

export interface TrailOptions {
  instance?: string
  /** ms since the epoch of the genesis. */
  start: number
  /** ms between events. */
  step?: number
  keyed?: boolean
  /** Checkpoint every this many seconds (also the chain's interval). */
  interval?: number
  closed?: boolean
  streamId?: string
}

export interface Trail {
  id: string
  lines: string[]
  /** @timestamp of each line. */
  times: number[]
}

export function accessRecord(t: number, e: TrailEvent): Record<string, unknown> {
  const user: Record<string, unknown> = { id: e.actor, roles: ['clinician'] }
  const record: Record<string, unknown> = {
    '@timestamp': new Date(t).toISOString(),
    'log.level': 'info',
    'ecs.version': '8.17.0',
    service: { name: 'patient-api', node: { name: 'pod-1' }, version: '1.0.0' },
    user,
  }
  if (e.ip) record.source = { ip: e.ip }
  if (e.requestId) record.http = { request: { id: e.requestId } }
  if (e.path !== undefined) {
    record.message = `GET ${e.path} 200`
    record.event = {
      kind: 'event',
      category: ['web'],
      type: ['access'],
      action: 'http-request',
      outcome: 'success',
    }
    record.http = { request: { id: e.requestId, method: 'GET' }, response: { status_code: 200 } }
    record.url = { path: e.path }
  } else {
    const action = e.action ?? 'patient-record-read'
    record.message = `${action} patient success`
    record.event = { kind: 'event', category: ['database'], type: ['access'], action, outcome: 'success' }
  }
  const audit: Record<string, unknown> = {}
  if (e.patient !== undefined) audit.resource = { type: 'patient', id: e.patient }
  if (e.session !== undefined) audit.session = e.session
  if (Object.keys(audit).length > 0) record.audit = audit
  return record
}

/** Seals `events` into one stream. */
export function makeTrail(events: Iterable<TrailEvent>, o: TrailOptions): Trail {
  let t = o.start
  const interval = o.interval ?? 60
  const chain: Chain = createChain({
    service: { name: 'patient-api', instance: o.instance ?? 'pod-1' },
    streamId: o.streamId,
    verifierKey: o.keyed === false ? undefined : keys.publicKeyPem,
    checkpointIntervalSeconds: interval,
    now: () => t,
  })
  const lines: string[] = []
  const times: number[] = []
  const push = (r: Record<string, unknown>) => {
    lines.push(chain.seal(r))
    times.push(t)
  }
  push(chain.genesis())
  let nextCheckpoint = t + interval * 1000
  for (const e of events) {
    t += o.step ?? 100
    while (t >= nextCheckpoint) {
      const saved = t
      t = nextCheckpoint
      push(chain.checkpoint())
      t = saved
      nextCheckpoint += interval * 1000
    }
    push(accessRecord(t, e))
  }
  if (o.closed !== false) {
    t += 1
    push(chain.closing())
  }
  return { id: chain.streamId, lines, times }
}

/** `n` access events by a few actors on a few hundred patients. */
export function* manyEvents(n: number): Generator<TrailEvent> {
  for (let i = 0; i < n; i++) {
    yield { actor: `clinician-${i % 7}`, patient: `ps_${(i % 313).toString(16).padStart(24, '0')}` }
  }
}
