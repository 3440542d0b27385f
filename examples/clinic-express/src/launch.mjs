// Starts a clinic API as a child process, the way a container runtime runs it: stdout (the audit
// lines) captured byte for byte into a file, stderr kept for diagnostics. Used by the demo and tests.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'

/**
 * @param {object} o
 * @param {string[]} o.args       node arguments, e.g. ['examples/clinic-express/src/server.mjs']
 * @param {Record<string,string>} o.env  extra environment (DATABASE_URL, CLINIC_DB_SCHEMA, ...)
 * @param {string} o.stdoutFile   where the audit lines go
 * @param {string} [o.cwd]
 * @param {number} [o.startTimeoutMs]
 * @returns {Promise<{ url: string, pid: number, stderr: () => string, stop: (signal?: string) => Promise<number|null> }>}
 */
export async function startClinic({ args, env, stdoutFile, cwd, startTimeoutMs = 30_000 }) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = createWriteStream(stdoutFile)
  child.stdout.pipe(out)
  let stderr = ''
  child.stderr.setEncoding('utf8')
  const exited = once(child, 'exit')

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`clinic did not start within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    )
    const onData = (chunk) => {
      stderr += chunk
      const m = /listening on (http:\/\/\S+)/.exec(stderr)
      if (m) {
        clearTimeout(timer)
        child.stderr.off('data', onData)
        child.off('exit', onExit)
        resolve(m[1])
      }
    }
    const onExit = (code, signal) => fail(new Error(`clinic exited early (code ${code}, signal ${signal})`))
    function fail(err) {
      clearTimeout(timer)
      child.stderr.off('data', onData)
      child.off('exit', onExit)
      if (child.exitCode === null) child.kill('SIGKILL')
      err.message += `\n--- clinic stderr ---\n${stderr}`
      reject(err)
    }
    child.stderr.on('data', onData)
    child.once('exit', onExit)
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })

  let stopped
  return {
    url,
    pid: child.pid,
    stderr: () => stderr,
    /**
     * Waits until stdout has been quiet for a moment (the event of the last response is written
     * just after the response), sends the signal (SIGTERM: graceful shutdown), waits for exit and
     * for stdout to be on disk.
     */
    stop(signal = 'SIGTERM') {
      stopped ??= (async () => {
        if (signal !== 'SIGKILL') await quiet(() => out.bytesWritten, 250, 3000)
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000)
        if (child.exitCode === null && child.signalCode === null) child.kill(signal)
        const [code] = await exited
        clearTimeout(kill)
        if (!out.writableFinished) await once(out, 'finish')
        return code
      })()
      return stopped
    },
  }
}

/** Resolves once `size()` has not changed for `ms` (or after `max` ms). */
async function quiet(size, ms, max) {
  const until = Date.now() + max
  let last = size()
  let since = Date.now()
  while (Date.now() < until && Date.now() - since < ms) {
    await new Promise((r) => setTimeout(r, 50))
    const now = size()
    if (now !== last) {
      last = now
      since = Date.now()
    }
  }
}
