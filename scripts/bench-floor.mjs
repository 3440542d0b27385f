/**
 * The floor cases of the HTTP benchmarks (Express's and Nest's bench/server.ts): what any request
 * audit middleware must cost before a line of this project runs, as one Express-style middleware
 * (Nest on the Express platform applies it as module middleware). Plain ESM so tsx, esbuild and
 * node all take it.
 *
 * - floor-als-close, floor-als, floor-close ...: run the rest of the request inside an
 *   AsyncLocalStorage context (the audit context handlers must run in) and/or learn when the
 *   response is over (a 'close' listener on the response).
 * - floor-pino-line: one plain pino line per request when the response closes (method, path,
 *   status, duration: no redaction, no request id, no chain). Anything that writes a line per
 *   request pays at least this. floor-als-close-pino-line: the same inside an ALS context.
 * - floor-als-close-audit-line: the same with the line as long as the bench's audit line, a filler
 *   field added (`padBytes`: Express's audit line is ~840 bytes, what DESIGN.md's fields take, see
 *   BENCHMARKS.md "Line size"; Nest's adds the controller and handler).
 * - floor-als-close-audit-line-sha256: also links each line to the one before by one SHA-256 of
 *   the line and the previous hash (crypto.hash, on the event loop's thread, as the line is
 *   written): the least any middleware that writes an audit-sized line per request and chains the
 *   lines by hash can cost, whatever it keys, seals or redacts on top.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { hash } from 'node:crypto'

/** Pads the floor's line to about the Express audit line's size (~840 bytes). */
export const EXPRESS_AUDIT_PAD = 680

export async function createFloorMiddleware(kase, { padBytes = EXPRESS_AUDIT_PAD } = {}) {
  if (!kase.startsWith('floor-')) throw new Error(`not a floor case: ${kase}`)
  const pinoLine = kase === 'floor-pino-line' || kase === 'floor-als-close-pino-line'
  const auditLine = kase === 'floor-als-close-audit-line' || kase === 'floor-als-close-audit-line-sha256'
  if (pinoLine || auditLine) return lineFloor(kase, auditLine ? 'x'.repeat(padBytes) : undefined)
  if (kase.includes('line')) throw new Error(`unknown case ${kase}`)
  const als = new AsyncLocalStorage()
  const withAls = kase.includes('als')
  const onClose = kase.includes('close')
  const ended = () => {}
  return (_req, res, next) => {
    if (onClose) res.on('close', ended)
    if (withAls) als.run({}, next)
    else next()
  }
}

async function lineFloor(kase, pad) {
  const { pino, symbols } = await import('pino')
  const logger = pino()
  const als = kase === 'floor-pino-line' ? undefined : new AsyncLocalStorage()
  if (kase.endsWith('-sha256')) linkLines(logger[symbols.streamSym])
  return (req, res, next) => {
    const start = performance.now()
    res.on('close', () => {
      const fields = {
        method: req.method,
        url: req.originalUrl,
        statusCode: res.statusCode,
        ms: performance.now() - start,
      }
      if (pad !== undefined) fields.pad = pad
      logger.info(fields, 'request completed')
    })
    if (als) als.run({}, next)
    else next()
  }
}

/** One SHA-256 per line written to `stream`, over the previous link and the line. */
export function linkLines(stream) {
  const write = stream.write.bind(stream)
  let link = ''
  stream.write = (line) => {
    link = hash('sha256', `${link}${line}`, 'base64url')
    return write(line)
  }
}
