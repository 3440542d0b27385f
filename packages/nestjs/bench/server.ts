// One benchmark server: a Nest 12 app on the Express platform with a hello-world route, either
// bare or with BoundaryAuditModule (integrity chain on, lines to stdout, which the parent sends to
// /dev/null). Reports its port and CPU time over IPC.
import 'reflect-metadata'
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { BoundaryAuditModule } from '../src/index'

const kase = process.argv[2] ?? 'bare'

@Controller()
class HelloController {
  @Get('hello/:id')
  hello() {
    return { hello: 'world' }
  }
}

const imports =
  kase === 'boundary-audit'
    ? [
        BoundaryAuditModule.forRoot({
          service: { name: 'bench' },
          integrity: { checkpointIntervalSeconds: 0 },
        }),
      ]
    : kase === 'boundary-audit-no-chain'
      ? [BoundaryAuditModule.forRoot({ service: { name: 'bench' }, integrity: { enabled: false } })]
      : []

@Module({ imports, controllers: [HelloController] })
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: false })
await app.listen(0, '127.0.0.1')
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
