import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createAuditLogger } from '../logger'
import { type HttpExchange, httpExchangeOf, startHttpExchange } from './exchange'
import { compileHttpAuditOptions } from './options'

const SOCKET_SLOT = Symbol.for('boundary-audit.http-exchanges.in-flight')

describe('finding the exchange of a request (socket-held registry)', () => {
  it('keeps pipelined requests on one connection apart, and forgets each once its event is written', async () => {
    const lines: string[] = []
    const audit = createAuditLogger({
      service: { name: 'registry-test' },
      integrity: { enabled: false },
      destination: { write: (l: string) => lines.push(l) },
    })
    const config = compileHttpAuditOptions({})
    const seen: { req: IncomingMessage; res: ServerResponse; exchange: HttpExchange }[] = []
    const server = createServer((req, res) => {
      const exchange = startHttpExchange(audit, config, req, res)
      exchange.setRoute(req.url)
      seen.push({ req, res, exchange })
      // Answer once all three are in flight, so that each lookup has to pick its own request.
      if (seen.length === 3) {
        for (const s of seen) expect(httpExchangeOf(s.req)).toBe(s.exchange)
        for (const s of seen) s.res.end(s.req.url)
      }
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
    await once(socket, 'connect')
    let received = ''
    socket.on('data', (d) => {
      received += d.toString()
    })
    socket.write(
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n',
    )
    const answered = () => received.match(/HTTP\/1\.1 200/g)?.length ?? 0
    for (let i = 0; i < 400 && (lines.length < 3 || answered() < 3); i++) {
      await new Promise((r) => setTimeout(r, 5))
    }

    const events = lines.map((l) => JSON.parse(l))
    expect(events.map((e) => e.http.route)).toEqual(['/a', '/b', '/c'])
    expect(answered()).toBe(3)
    // Written and forgotten: the kept-alive connection holds no request.
    for (const s of seen) {
      expect(s.exchange.done).toBe(true)
      expect(httpExchangeOf(s.req)).toBeUndefined()
    }
    const serverSocket = seen[0]!.req.socket as unknown as Record<symbol, unknown[]>
    expect(serverSocket[SOCKET_SLOT]).toEqual([])
    socket.destroy()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })
})
