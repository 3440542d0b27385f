// One benchmark server: a Nest 12 app on the Express platform with a hello-world route, either
// bare, with BoundaryAuditModule (core defaults: integrity chain on; or the chain off), with
// nestjs-pino's LoggerModule.forRoot() (its defaults: pino-http, one line per request), or a floor
// case (below). Every logger writes to stdout, which the parent sends to /dev/null. Reports its
// port and CPU time over IPC.
import 'reflect-metadata'
import { Controller, Get, type MiddlewareConsumer, Module, RequestMethod } from '@nestjs/common'
import { APP_GUARD, NestFactory } from '@nestjs/core'
import { createFloorMiddleware, linkLines } from '../../../scripts/bench-floor.mjs'

const kase = process.argv[2] ?? 'bare'

@Controller()
class HelloController {
  @Get('hello/:id')
  hello() {
    return { hello: 'world' }
  }
}

// This bench's audit line (GET /hello/42, defaults) is ~917 bytes, the Express one's ~840: the
// handler's controller and name are on it. Pads that bring the floor cases' lines to that size:
const FLOOR_PAD = 748 // + the floor's own ~169-byte pino line
const NESTJS_PINO_PAD = 300 // + nestjs-pino's ~607-byte line and `"pad":"",`

// Floor cases, the Express bench's (scripts/bench-floor.mjs) applied as module middleware to every
// route, the way BoundaryAuditModule and nestjs-pino apply theirs: the least any Nest module that
// runs requests in an ALS context and writes an audit-sized line per request (-sha256: linked by
// one SHA-256 each) can cost.
async function floorModule(name: string) {
  const middleware = await createFloorMiddleware(name, { padBytes: FLOOR_PAD })
  @Module({})
  class FloorModule {
    configure(consumer: MiddlewareConsumer) {
      consumer.apply(middleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL })
    }
  }
  return FloorModule
}

@Module({ providers: [{ provide: APP_GUARD, useValue: { canActivate: () => true } }] })
class GuardModule {}

// nestjs-pino-audit-line-sha256: nestjs-pino with what the contract requires that it does not do
// (it already runs each request in an ALS context): its line padded to the audit line's size (a
// field added by pino's mixin) and one SHA-256 link per line (linked once the app is created).
let linkNestjsPino = false

// The built packages (dist), as an application runs them: `npm run bench` builds first.
async function importsFor(name: string): Promise<unknown[]> {
  if (name === 'nestjs-pino') {
    const { LoggerModule } = await import('nestjs-pino')
    return [LoggerModule.forRoot()]
  }
  if (name === 'nestjs-pino-audit-line-sha256') {
    const { LoggerModule } = await import('nestjs-pino')
    const pad = 'x'.repeat(NESTJS_PINO_PAD)
    linkNestjsPino = true
    return [LoggerModule.forRoot({ pinoHttp: { mixin: () => ({ pad }) } })]
  }
  if (name.startsWith('floor-')) return [await floorModule(name)]
  if (name === 'bare') return []
  // Diagnosis: what Nest charges a route for having any global guard (an async guard pass).
  if (name === 'bare-guard') return [GuardModule]
  const { BoundaryAuditModule } = await import('@boundary-audit/nestjs')
  if (name === 'boundary-audit') {
    return [
      BoundaryAuditModule.forRoot({
        service: { name: 'bench' },
        integrity: { checkpointIntervalSeconds: 0 },
      }),
    ]
  }
  if (name === 'boundary-audit-middleware-only') {
    // Diagnosis: the module with a logger whose httpRequest does nothing (what the adapter costs).
    const { createAuditLogger } = await import('@boundary-audit/core')
    const audit = createAuditLogger({
      service: { name: 'bench' },
      integrity: { checkpointIntervalSeconds: 0 },
    })
    return [BoundaryAuditModule.forRoot({ logger: { ...audit, httpRequest() {} } })]
  }
  if (name === 'boundary-audit-no-chain') {
    return [BoundaryAuditModule.forRoot({ service: { name: 'bench' }, integrity: { enabled: false } })]
  }
  throw new Error(`unknown case ${name}`)
}

const imports = (await importsFor(kase)) as never[]

@Module({ imports, controllers: [HelloController] })
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: false })
if (linkNestjsPino) {
  const { PinoLogger } = await import('nestjs-pino')
  const { symbols } = await import('pino')
  linkLines(
    (PinoLogger.root as unknown as Record<symbol, { write(line: string): unknown }>)[symbols.streamSym]!,
  )
}
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1')
let cpuStart = process.cpuUsage()
process.on('message', (m) => {
  if (m === 'begin') cpuStart = process.cpuUsage()
  else if (m === 'cpu') {
    const d = process.cpuUsage(cpuStart)
    process.send?.({ cpuMicros: d.user + d.system })
  } else if (m === 'stop') void app.close().then(() => process.exit(0))
})
process.send?.({ port: app.getHttpServer().address().port })
// Also stoppable by signal, for profiling a server started by hand (`node --cpu-prof ...`).
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
