// The monitor's shared counts against the real Redis of this machine (and CI): 127.0.0.1:6379, or
// BOUNDARY_AUDIT_TEST_REDIS_URL. Every run uses its own key prefix and deletes its keys.
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import Redis from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../scripts/redis.mjs'
import { capture, readPatient } from './helpers'

const redis = testRedis()
const URL = redis.url
const KEY = 'monitor-redis-test-key-0123456789'
const prefix = redis.prefix

async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const start = Date.now()
  for (;;) {
    const v = check()
    if (v) return v
    if (Date.now() - start > timeoutMs) throw new Error('waitFor: timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

const read = (audit: any, actor: string, id: string) => readPatient(audit, actor, id)
const alertsOf = (...loggers: { events: () => any[] }[]) =>
  loggers.flatMap((l) => l.events().filter((e) => e.event.kind === 'alert'))
const statesOf = (l: { events: () => any[] }) =>
  l
    .events()
    .filter((e) => e.event.action?.startsWith('monitor-'))
    .map((e) => [e.event.action, e.audit.monitor.actor ?? '-', e.audit.monitor.by])

afterAll(() => redis.cleanup())

/**
 * A client of our own that notes the name of every command it sends; while `hold` is a promise,
 * script calls go out only once it settles (a slow round trip).
 */
function countingClient() {
  const client = new Redis(URL)
  const sent: string[] = []
  const state: { hold?: Promise<void> } = {}
  const original = client.sendCommand.bind(client)
  client.sendCommand = ((command: { name: string; promise: Promise<unknown> }) => {
    sent.push(command.name)
    const hold = state.hold
    if (hold === undefined || (command.name !== 'evalsha' && command.name !== 'eval'))
      return original(command as never)
    void hold.then(() => original(command as never))
    return command.promise
  }) as typeof client.sendCommand
  return { client, sent, state }
}

/** Two replicas (loggers) with the same monitor options, once both count in Redis. */
async function twoReplicas(monitor: object) {
  const a = capture({ redaction: { pseudonymKey: KEY }, monitor })
  const b = capture({ redaction: { pseudonymKey: KEY }, monitor })
  await waitFor(() => a.audit.monitor.stats().store === 'redis' && b.audit.monitor.stats().store === 'redis')
  return [a, b] as const
}

describe('monitor counts shared through Redis', () => {
  it('two replicas share breadth counts: the alert fires on the access that crosses the threshold across both', async () => {
    const monitor = {
      breadth: { threshold: 3, windowSeconds: 600 },
      rate: false as const,
      redis: { url: URL, keyPrefix: `${prefix}a:` },
    }
    const [a, b] = await twoReplicas(monitor)
    try {
      read(a.audit, 'roamer', 'P1')
      read(a.audit, 'roamer', 'P2')
      read(b.audit, 'roamer', 'P2') // the same individual again: still 2
      await new Promise((r) => setTimeout(r, 100))
      expect([...a.events(), ...b.events()].filter((e) => e.event.kind === 'alert')).toHaveLength(0)
      read(b.audit, 'roamer', 'P3')
      await new Promise((r) => setTimeout(r, 100))
      expect(b.events().filter((e) => e.event.kind === 'alert')).toHaveLength(0)
      // Each replica alone has seen at most 2 individuals; together 4.
      read(b.audit, 'roamer', 'P4')
      const alert = await waitFor(() => b.events().find((e) => e.event.kind === 'alert'))
      expect(alert.audit.monitor).toMatchObject({ rule: 'breadth', actor: 'roamer', count: 4, threshold: 3 })
      expect(a.events().filter((e) => e.event.kind === 'alert')).toHaveLength(0)
    } finally {
      await a.audit.close()
      await b.audit.close()
    }
  })

  it('at most one call to Redis per access: accesses within a few milliseconds share one script call', async () => {
    const { client, sent } = countingClient()
    const { audit, events } = capture({
      redaction: { pseudonymKey: KEY },
      monitor: {
        breadth: { threshold: 50 },
        rate: { threshold: 3, windowSeconds: 60 },
        redis: { client, keyPrefix: `${prefix}b:` },
      },
    })
    try {
      await waitFor(() => client.status === 'ready')
      // Once connected the monitor reads the shared enforcement state; from then on only scripts.
      await waitFor(() => sent.includes('hgetall'))
      await new Promise((r) => setTimeout(r, 20))
      sent.length = 0
      // Ten accesses in one turn (a request listing ten patients): one call.
      for (let i = 0; i < 10; i++) read(audit, 'busy', `Q${i % 2}`)
      await waitFor(() => events().find((e) => e.event.kind === 'alert'))
      const scripts = () => sent.filter((n) => n === 'evalsha').length
      expect(scripts()).toBe(1)
      // Three accesses in three turns: three calls.
      for (let i = 0; i < 3; i++) {
        read(audit, 'calm', `R${i}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      await waitFor(() => scripts() === 4)
      // The script is loaded once (evalsha falls back to eval on NOSCRIPT); nothing else is sent.
      expect(sent.filter((n) => n !== 'evalsha' && n !== 'eval')).toEqual([])
      const alerts = events().filter((e) => e.event.kind === 'alert')
      expect(alerts.map((e) => [e.rule.name, e.user.id, e.audit.monitor.count])).toEqual([
        ['rate', 'busy', 4],
      ])
    } finally {
      await audit.close()
      expect(client.status).toBe('ready')
      await client.quit()
    }
  })

  it('one script call in flight: the accesses that come while it is out go together in the next', async () => {
    const { client, sent, state } = countingClient()
    const { audit, events } = capture({
      redaction: { pseudonymKey: KEY },
      monitor: {
        breadth: false,
        rate: { threshold: 3, windowSeconds: 60 },
        redis: { client, keyPrefix: `${prefix}f:` },
      },
    })
    try {
      await waitFor(() => client.status === 'ready' && sent.includes('hgetall'))
      await new Promise((r) => setTimeout(r, 20))
      sent.length = 0
      let release = () => {}
      state.hold = new Promise<void>((r) => {
        release = r
      })
      const scripts = () => sent.filter((n) => n === 'evalsha').length
      read(audit, 'slow', 'T0')
      await waitFor(() => scripts() === 1)
      // Three accesses in three turns 20 ms apart (three calls with nothing out): they wait.
      for (let i = 1; i <= 3; i++) {
        read(audit, 'slow', `T${i}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(scripts()).toBe(1)
      state.hold = undefined
      release()
      const alert = await waitFor(() => events().find((e) => e.event.kind === 'alert'))
      expect(alert.audit.monitor).toMatchObject({ rule: 'rate', actor: 'slow', count: 4 })
      await new Promise((r) => setTimeout(r, 50))
      expect(scripts()).toBe(2)
    } finally {
      await audit.close()
      await client.quit()
    }
  })

  it('Redis unreachable: counts per process, one warning, requests never refused; fail-closed refuses PHI routes', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    // Nothing listens on port 1 of the loopback address.
    const monitor = {
      breadth: { threshold: 2, windowSeconds: 60 },
      redis: { url: 'redis://127.0.0.1:1', keyPrefix: `${prefix}c:`, timeoutMs: 200 },
    }
    const open = capture({ redaction: { pseudonymKey: KEY }, monitor })
    const closed = capture({
      redaction: { pseudonymKey: KEY },
      monitor: { ...monitor, redis: { ...monitor.redis, failClosed: true } },
    })
    try {
      for (const id of ['A', 'B', 'C']) read(open.audit, 'offline', id)
      const alert = await waitFor(() => open.events().find((e) => e.event.kind === 'alert'))
      expect(alert.audit.monitor).toMatchObject({ rule: 'breadth', count: 3 })
      expect(open.audit.monitor.stats().store).toBe('memory-fallback')
      expect(open.audit.monitor.verdict('offline', '/patients/1')).toBe(0)
      expect(closed.audit.monitor.verdict('anyone', '/patients/1')).toBe(503)
      await waitFor(() => warnings.some((w) => /Redis is unreachable/.test(w)))
      await new Promise((r) => setTimeout(r, 600))
      expect(warnings.filter((w) => /Redis is unreachable/.test(w)).length).toBeLessThanOrEqual(2) // once per logger
    } finally {
      process.removeListener('warning', onWarning)
      await open.audit.close()
      await closed.audit.close()
    }
  })

  it('breadth across replicas alerts once per window between them, and the block it starts holds on both', async () => {
    const monitor = {
      breadth: { threshold: 2, windowSeconds: 600 },
      rate: false as const,
      enforcement: { block: ['breadth'] },
      redis: { url: URL, keyPrefix: `${prefix}e:` },
    }
    const [a, b] = await twoReplicas(monitor)
    try {
      read(a.audit, 'sweeper', 'P1')
      read(a.audit, 'sweeper', 'P2')
      await new Promise((r) => setTimeout(r, 50))
      read(b.audit, 'sweeper', 'P3')
      await waitFor(() => alertsOf(b).length === 1)
      // Over the threshold on a as well now, but the window's alert was raised already (on b).
      read(a.audit, 'sweeper', 'P4')
      read(b.audit, 'sweeper', 'P5')
      await new Promise((r) => setTimeout(r, 200))
      expect(alertsOf(a, b).map((e) => [e.rule.name, e.audit.monitor.count])).toEqual([['breadth', 3]])
      await waitFor(() => a.audit.monitor.isBlocked('sweeper'))
      expect(b.audit.monitor.isBlocked('sweeper')).toBe(true)
      expect(statesOf(b)).toEqual([['monitor-actor-blocked', 'sweeper', 'rule:breadth']])
      expect(statesOf(a)).toEqual([['monitor-actor-blocked', 'sweeper', 'replica:rule:breadth']])
    } finally {
      await a.audit.close()
      await b.audit.close()
    }
  })

  it('operator blocks and scrams hold on every replica, a replica started later inherits them, and lifting on one lifts all', async () => {
    const admin = new Redis(URL)
    const monitor = { breadth: false as const, redis: { url: URL, keyPrefix: `${prefix}f:` } }
    const [a, b] = await twoReplicas(monitor)
    let c: ReturnType<typeof capture> | undefined
    try {
      a.audit.runWithContext({ actor: { id: 'privacy-officer' } }, () =>
        a.audit.monitor.block('mallory', { reason: 'complaint about SSN 123-45-6789' }),
      )
      await waitFor(() => b.audit.monitor.isBlocked('mallory'))
      expect(b.audit.monitor.verdict('mallory', '/patients/1')).toBe(403)
      a.audit.monitor.scram({ reason: 'Falco: shell in container' })
      await waitFor(() => b.audit.monitor.scrammed)
      expect(b.audit.monitor.verdict('anyone', '/patients/1')).toBe(503)
      expect(b.audit.monitor.verdict('anyone', '/healthz')).toBe(0)
      // What Redis holds was redacted like the trail: no clear identifier in the shared state.
      const held = JSON.stringify(await admin.hgetall(`${prefix}f:{monitor}:enforcement`))
      expect(held).toMatch(/mallory/)
      expect(held).not.toMatch(/123-45-6789/)

      c = capture({ redaction: { pseudonymKey: KEY }, monitor })
      await waitFor(() => c!.audit.monitor.scrammed && c!.audit.monitor.isBlocked('mallory'))

      b.audit.monitor.unblock('mallory')
      b.audit.monitor.unscram({ reason: 'contained' })
      await waitFor(
        () =>
          !a.audit.monitor.isBlocked('mallory') &&
          !c!.audit.monitor.isBlocked('mallory') &&
          !a.audit.monitor.scrammed &&
          !c!.audit.monitor.scrammed,
      )
      expect(statesOf(a)).toEqual([
        ['monitor-actor-blocked', 'mallory', 'operator'],
        ['monitor-scram-started', '-', 'operator'],
        ['monitor-actor-unblocked', 'mallory', 'replica:operator'],
        ['monitor-scram-ended', '-', 'replica:operator'],
      ])
      expect(statesOf(b)).toEqual([
        ['monitor-actor-blocked', 'mallory', 'replica:operator'],
        ['monitor-scram-started', '-', 'replica:operator'],
        ['monitor-actor-unblocked', 'mallory', 'operator'],
        ['monitor-scram-ended', '-', 'operator'],
      ])
      expect(
        statesOf(c)
          .map((x) => x[0])
          .sort(),
      ).toEqual([
        'monitor-actor-blocked',
        'monitor-actor-unblocked',
        'monitor-scram-ended',
        'monitor-scram-started',
      ])
      // The operator is named on the replica where the operator acted.
      const blocked = a.events().find((e) => e.event.action === 'monitor-actor-blocked')
      expect(blocked.user.id).toBe('privacy-officer')
      expect(await admin.hgetall(`${prefix}f:{monitor}:enforcement`)).toEqual({})
    } finally {
      await a.audit.close()
      await b.audit.close()
      await c?.audit.close()
      await admin.quit()
    }
  })

  it('a replica cut off from Redis enforces on its own, and on reconnecting shares what it did and takes what the others did', async () => {
    // A TCP proxy in front of the real Redis that the test can cut and restore.
    const target = new globalThis.URL(URL)
    const sockets = new Set<Socket>()
    let server: Server | undefined
    const open = (port = 0) =>
      new Promise<number>((resolve) => {
        server = createServer((client) => {
          const upstream = createConnection(Number(target.port || 6379), target.hostname)
          for (const s of [client, upstream]) {
            sockets.add(s)
            s.on('error', () => s.destroy())
            s.on('close', () => sockets.delete(s))
          }
          client.pipe(upstream).pipe(client)
        })
        server.listen(port, '127.0.0.1', () => resolve((server!.address() as { port: number }).port))
      })
    const cut = async () => {
      const closed = new Promise((r) => server!.close(r))
      for (const s of sockets) s.destroy()
      await closed
    }
    const port = await open()
    const keyPrefix = `${prefix}g:`
    const a = capture({
      redaction: { pseudonymKey: KEY },
      monitor: { breadth: false, redis: { url: `redis://127.0.0.1:${port}`, keyPrefix, timeoutMs: 300 } },
    })
    const b = capture({
      redaction: { pseudonymKey: KEY },
      monitor: { breadth: false, redis: { url: URL, keyPrefix } },
    })
    try {
      await waitFor(
        () => a.audit.monitor.stats().store === 'redis' && b.audit.monitor.stats().store === 'redis',
      )
      await new Promise((r) => setTimeout(r, 100))
      await cut()
      await waitFor(() => a.audit.monitor.stats().store === 'memory-fallback')
      a.audit.monitor.block('eve', { reason: 'while cut off' })
      // Blocked and lifted while cut off: only the last word goes out, so the others hear nothing.
      a.audit.monitor.block('tmp')
      a.audit.monitor.unblock('tmp')
      b.audit.monitor.scram({ reason: 'while a was cut off' })
      await new Promise((r) => setTimeout(r, 200))
      expect(a.audit.monitor.verdict('eve', '/patients/1')).toBe(403)
      expect(b.audit.monitor.isBlocked('eve')).toBe(false)
      expect(a.audit.monitor.scrammed).toBe(false)
      await open(port)
      await waitFor(() => b.audit.monitor.isBlocked('eve') && a.audit.monitor.scrammed, 15_000)
      expect(statesOf(a)).toEqual([
        ['monitor-actor-blocked', 'eve', 'operator'],
        ['monitor-actor-blocked', 'tmp', 'operator'],
        ['monitor-actor-unblocked', 'tmp', 'operator'],
        ['monitor-scram-started', '-', 'replica:operator'],
      ])
      expect(statesOf(b)).toEqual([
        ['monitor-scram-started', '-', 'operator'],
        ['monitor-actor-blocked', 'eve', 'replica:operator'],
      ])
    } finally {
      await a.audit.close()
      await b.audit.close()
      for (const s of sockets) s.destroy()
      await new Promise((r) => server?.close(r))
    }
  }, 30_000)

  it('redis.batchMs: accesses of a longer time share one script call', async () => {
    const { client, sent } = countingClient()
    const { audit } = capture({
      redaction: { pseudonymKey: KEY },
      monitor: { redis: { client, keyPrefix: `${prefix}h:`, batchMs: 300 } },
    })
    try {
      await waitFor(() => client.status === 'ready' && sent.includes('hgetall'))
      await new Promise((r) => setTimeout(r, 20))
      sent.length = 0
      for (let i = 0; i < 3; i++) {
        read(audit, 'calm', `S${i}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      await waitFor(() => sent.includes('evalsha'))
      await new Promise((r) => setTimeout(r, 400))
      expect(sent.filter((n) => n === 'evalsha')).toHaveLength(1)
    } finally {
      await audit.close()
      await client.quit()
    }
  })
  it('rules without a window alert once per actor and individual within repeatSeconds across replicas, in the batch call', async () => {
    const clients = [countingClient(), countingClient()]
    const monitor = (client: unknown) => ({
      breadth: false as const,
      rate: false as const,
      watched: { ids: ['VIP'] },
      repeatSeconds: 60,
      redis: { client, keyPrefix: `${prefix}once:` },
    })
    const [ca, cb] = clients as [ReturnType<typeof countingClient>, ReturnType<typeof countingClient>]
    const ra = capture({ redaction: { pseudonymKey: KEY }, monitor: monitor(ca.client) })
    const rb = capture({ redaction: { pseudonymKey: KEY }, monitor: monitor(cb.client) })
    try {
      await waitFor(() => clients.every(({ sent }) => sent.includes('hgetall')))
      await new Promise((r) => setTimeout(r, 20))
      for (const { sent } of clients) sent.length = 0
      // A chart opened through several requests that the load balancer spreads over both replicas.
      read(ra.audit, 'nosy', 'VIP')
      read(rb.audit, 'nosy', 'VIP')
      await new Promise((r) => setTimeout(r, 50))
      read(ra.audit, 'nosy', 'VIP')
      // Someone else reaching the same individual, and break-the-glass without a reason twice.
      read(rb.audit, 'curious', 'VIP')
      readPatient(ra.audit, 'rushed', 'P9', { purpose: 'break-the-glass' })
      readPatient(rb.audit, 'rushed', 'P9', { purpose: 'break-the-glass' })
      await waitFor(() => alertsOf(ra, rb).length >= 3)
      await new Promise((r) => setTimeout(r, 100))
      expect(
        alertsOf(ra, rb)
          .map((e) => `${e.rule.name} ${e.user.id}`)
          .sort(),
      ).toEqual(['emergency rushed', 'watched curious', 'watched nosy'])
      // One script call per batch carried the marks: nothing else went to Redis.
      for (const { sent } of clients) expect(sent.filter((n) => n !== 'evalsha' && n !== 'eval')).toEqual([])
    } finally {
      await ra.audit.close()
      await rb.audit.close()
      for (const { client } of clients) await client.quit()
    }
  })
  /**
   * A logger whose monitor counts in Redis under a prefix of its own (windows of `windowSeconds`),
   * and the expiries (pttl) of actor walker's two keys.
   */
  function walkerKeys(name: string, windowSeconds: number) {
    const admin = new Redis(URL)
    const keyPrefix = `${prefix}${name}:`
    const monitor = {
      breadth: { threshold: 50, windowSeconds },
      rate: { threshold: 50, windowSeconds },
      redis: { url: URL, keyPrefix },
    }
    const { audit } = capture({ redaction: { pseudonymKey: KEY }, monitor })
    const keys = ['d', 'c'].map((k) => `${keyPrefix}{monitor}:walker:${k}`)
    const ttls = async () => Promise.all(keys.map((k) => admin.pttl(k)))
    /** The expiries once both keys exist with one (the script call follows the access by batchMs). */
    const settled = async () => {
      for (let i = 0; i < 200; i++) {
        if ((await ttls()).every((t) => t > 0)) return ttls()
        await new Promise((r) => setTimeout(r, 10))
      }
      throw new Error('the keys did not appear with an expiry')
    }
    return { admin, audit, keys, ttls, settled }
  }
  it("an actor's keys outlive each access by a window, renewed when its accesses reach a new quarter window", async () => {
    const { admin, audit, ttls, settled } = walkerKeys('ttl', 4)
    try {
      await waitFor(() => audit.monitor.stats().store === 'redis')
      read(audit, 'walker', 'A')
      // A window (4 s) and a quarter of it (the renewal's slice of time) at most.
      for (const t of await settled()) expect(t).toBeGreaterThan(3000)
      for (const t of await ttls()) expect(t).toBeLessThanOrEqual(5000)
      // More than a slice later: renewed (not renewed, they would have at most 5000 - 1200 left).
      await new Promise((r) => setTimeout(r, 1200))
      read(audit, 'walker', 'B')
      await new Promise((r) => setTimeout(r, 50))
      for (const t of await ttls()) expect(t).toBeGreaterThan(4000)
    } finally {
      await audit.close()
      await admin.quit()
    }
  })
  it("keys that vanish behind the monitor's back get their expiry again at once, in the same slice", async () => {
    const { admin, audit, keys, ttls, settled } = walkerKeys('ttl-gone', 600)
    try {
      await waitFor(() => audit.monitor.stats().store === 'redis')
      read(audit, 'walker', 'A')
      await settled()
      // This replica renewed the keys in this slice (150 s long) and will not ask again in it; the
      // script sees the keys new (an eviction, a failover) and gives them their expiry anyway.
      await admin.del(...keys)
      read(audit, 'walker', 'B')
      await settled()
      for (const t of await ttls()) expect(t).toBeGreaterThan(600_000)
      // Neither key is left without an expiry (-1).
      expect(await admin.zcard(keys[0] as string)).toBe(1)
      expect(await admin.llen(keys[1] as string)).toBe(1)
    } finally {
      await audit.close()
      await admin.quit()
    }
  })
})
