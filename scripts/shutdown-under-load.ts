/**
 * Shared by the Express and Nest shutdown tests: a real server in a child process, clients that keep
 * sending while it shuts down (SIGTERM), and what each side saw. The child prints `port N` on stderr
 * when it listens and `slow-started` when its `/slow` handler begins (a request that is in flight
 * when the signal arrives, so that the logger has to wait for it); its stdout is the audit trail.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { built } from '../packages/core/test/built'

export interface Response {
  id: string
  status: number
  retryAfter: string | undefined
}

export interface ShutdownRun {
  responses: Response[]
  /** The audit lines the child wrote on stdout. */
  lines: string[]
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
}

/** One GET with a request id; undefined when the connection failed (the server is gone). */
function get(agent: Agent, port: number, path: string, id: string): Promise<Response | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { 'x-request-id': id } }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({
          id,
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'] as string | undefined,
        }),
      )
      res.on('error', () => resolve(undefined))
    })
    req.on('error', () => resolve(undefined))
    req.setTimeout(20_000, () => req.destroy())
    req.end()
  })
}

const until = async (what: () => boolean, label: string, ms = 30_000) => {
  const deadline = Date.now() + ms
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * Starts `fixture`, lets `clients` keep-alive clients send `GET /work` in a loop, sends `GET /slow`,
 * and once its handler runs sends SIGTERM; the clients carry on until the server is gone.
 */
export async function shutdownUnderLoad(options: {
  fixture: string
  execArgv: string[]
  env?: Record<string, string>
  /** Where tsx looks for tsconfig.json (Nest needs its decorator settings). */
  cwd?: string
  clients?: number
  /**
   * Clients reuse their connection (default). Off for servers closed with server.close() first (Nest's
   * shutdown hooks): Node keeps serving a busy keep-alive connection, so a client that never pauses
   * would keep such a server open until it is killed.
   */
  keepAlive?: boolean
}): Promise<ShutdownRun> {
  const child = spawn(process.execPath, [...options.execArgv, options.fixture], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
  })
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (code, signal) => resolve([code, signal])),
  )
  let gone = false
  void exited.then(() => {
    gone = true
  })
  try {
    await until(() => /port \d+/.test(stderr) || gone, 'the server to listen')
    const port = Number(/port (\d+)/.exec(stderr)?.[1])
    if (!port) throw new Error(`the server did not start: ${stderr}`)

    const responses: Response[] = []
    const agents: Agent[] = []
    const loops: Promise<void>[] = []
    for (let c = 0; c < (options.clients ?? 4); c++) {
      const agent = new Agent({ keepAlive: options.keepAlive ?? true, maxSockets: 1 })
      agents.push(agent)
      loops.push(
        (async () => {
          // Bounded: the server is gone long before this many.
          for (let n = 0; n < 100_000; n++) {
            const r = await get(agent, port, '/work', `c${c}-n${n}`)
            if (r === undefined) return
            responses.push(r)
          }
        })(),
      )
    }
    await until(() => responses.length >= 200, '200 responses')
    const slowAgent = new Agent({ keepAlive: false })
    agents.push(slowAgent)
    const slow = get(slowAgent, port, '/slow', 'slow-1')
    await until(() => stderr.includes('slow-started'), 'the slow request to start')
    child.kill('SIGTERM')
    const slowResponse = await slow
    if (slowResponse) responses.push(slowResponse)
    await Promise.all(loops)
    for (const a of agents) a.destroy()
    const [code, signal] = await exited
    return { responses, lines: stdout.split('\n').filter(Boolean), stderr, code, signal }
  } finally {
    if (!gone) child.kill('SIGKILL')
  }
}

/** Request id -> status code of the http-request events in the trail. */
export function eventsByRequestId(lines: string[]): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>()
  for (const line of lines) {
    const r = JSON.parse(line)
    if (r.event?.action === 'http-request' || r.http?.request?.method !== undefined) {
      const id = r.http?.request?.id
      if (typeof id === 'string') out.set(id, r.http?.response?.status_code)
    }
  }
  return out
}

/**
 * `boundary-audit verify` over the lines, as a user runs it: the built bin (packages/core/dist/cli.js,
 * which `npm test` builds first; refused when older than core's src/) in a child process. Exit code
 * and output.
 */
export function verifyTrail(lines: string[]): Promise<{ code: number; out: string }> {
  const cli = built('cli.js')
  const dir = mkdtempSync(join(tmpdir(), 'ba-trail-'))
  const file = join(dir, 'trail.ndjson')
  writeFileSync(file, `${lines.join('\n')}\n`)
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'verify', file], (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true })
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })
    })
  })
}
