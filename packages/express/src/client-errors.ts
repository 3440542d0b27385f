import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import type { AuditLogger } from '@boundary-audit/core'

/**
 * Requests that Node's HTTP parser rejects before any middleware runs (headers over the 16 KiB limit,
 * malformed request lines, header timeouts) never reach Express, so auditMiddleware cannot see them.
 * This records one `http-request` event for each (outcome failure, no path, no headers: nothing of
 * the rejected bytes is logged) and then answers exactly as Node does without a 'clientError'
 * listener. Opt-in because a listener replaces Node's default handling. Returns a function that
 * removes it.
 */
export function auditClientErrors(server: Server, audit: AuditLogger): () => void {
  if (!server || typeof server.on !== 'function') {
    throw new TypeError(
      'boundary-audit: auditClientErrors(server, audit) needs the http.Server your app listens on',
    )
  }
  if (!audit || typeof audit.httpRequest !== 'function') {
    throw new TypeError(
      'boundary-audit: auditClientErrors(server, audit) needs a logger from createAuditLogger()',
    )
  }
  const onClientError = (err: Error & { code?: string }, socket: Socket) => {
    const status = statusFor(err.code)
    // A reset or a socket that went away is not a request: nothing to audit.
    if (status !== undefined) {
      try {
        audit.httpRequest({
          method: 'UNKNOWN',
          path: '/',
          statusCode: status,
          outcome: 'failure',
          reason: `rejected by Node's HTTP parser before routing (${err.code})`,
          clientIp: socket.remoteAddress,
        })
      } catch {
        // the logger never throws; this guards a replaced one
      }
    }
    // Node's own behaviour (lib/_http_server.js socketOnError): answer if nothing was written yet.
    if (socket.writable && socket.bytesWritten === 0) {
      socket.write(`HTTP/1.1 ${status ?? 400} ${REASONS[status ?? 400]}\r\nConnection: close\r\n\r\n`)
    }
    socket.destroy(err)
  }
  server.on('clientError', onClientError)
  return () => {
    server.off('clientError', onClientError)
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
}

function statusFor(code: string | undefined): number | undefined {
  if (code === 'HPE_HEADER_OVERFLOW' || code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 431
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408
  if (typeof code === 'string' && code.startsWith('HPE_')) return 400
  return undefined
}
