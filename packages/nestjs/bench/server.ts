// One benchmark server: a Nest 12 app on the Express platform with a hello-world route, either
// bare, with BoundaryAuditModule (core defaults: integrity chain on; or the chain off), or with
// nestjs-pino's LoggerModule.forRoot() (its defaults: pino-http, one line per request). Every
// logger writes to stdout, which the parent sends to /dev/null. Reports its port and CPU time over IPC.
import 'reflect-metadata'
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'

const kase = process.argv[2] ?? 'bare'

@Controller()
class HelloController {
  @Get('hello/:id')
  hello() {
    return { hello: 'world' }
  }
}

// The built packages (dist), as an application runs them: `npm run bench` builds first.
async function importsFor(name: string): Promise<unknown[]> {
  if (name === 'nestjs-pino') {
    const { LoggerModule } = await import('nestjs-pino')
    return [LoggerModule.forRoot()]
  }
  if (name === 'bare') return []
  const { BoundaryAuditModule } = await import('@boundary-audit/nestjs')
  if (name === 'boundary-audit') {
    return [
      BoundaryAuditModule.forRoot({
        service: { name: 'bench' },
        integrity: { checkpointIntervalSeconds: 0 },
      }),
    ]
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
