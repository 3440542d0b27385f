import { createAuditLogger } from '@boundary-audit/core'
import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common'
import { ConfigModule, ConfigService } from '@nestjs/config'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { Test } from '@nestjs/testing'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AUDIT_LOGGER,
  Audit,
  type AuditLogger,
  BoundaryAuditModule,
  type BoundaryAuditModuleOptions,
  type BoundaryAuditOptionsFactory,
  InjectAuditLogger,
} from '../src/index'
import { byAction, captureOptions, PatientsModule, startApp, type TestApp, untilHttpEvents } from './app'

const apps: TestApp[] = []
afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close()
})
async function start(auditModule: any, lines: string[], extraImports: any[] = []) {
  const t = await startApp(auditModule, lines, extraImports)
  apps.push(t)
  return t
}

const appConfig = () => ({ AUDIT_SERVICE_NAME: 'records-api', AUDIT_ENVIRONMENT: 'staging' })

/** A service elsewhere in the app that writes its own events through the injected logger. */
@Injectable()
class LoginService {
  constructor(@InjectAuditLogger() private readonly audit: AuditLogger) {}
  login(user: string) {
    this.audit.login({ actor: { id: user }, outcome: 'success', method: 'password' })
  }
}

@Controller('session')
class SessionController {
  constructor(@Inject(LoginService) private readonly logins: LoginService) {}
  @Get('login')
  login() {
    this.logins.login('dr-quinn')
    return { ok: true }
  }
}

@Module({ controllers: [SessionController], providers: [LoginService] })
class SessionModule {}

describe('BoundaryAuditModule', () => {
  it('forRootAsync with useFactory reads its options from ConfigService', async () => {
    const lines: string[] = []
    const auditModule = BoundaryAuditModule.forRootAsync({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [appConfig] })],
      inject: [ConfigService],
      useFactory: (config: ConfigService): BoundaryAuditModuleOptions => ({
        ...captureOptions(lines),
        service: {
          name: config.get<string>('AUDIT_SERVICE_NAME'),
          environment: config.get('AUDIT_ENVIRONMENT'),
        },
      }),
    })
    const t = await start(auditModule, lines, [SessionModule])
    const res = await fetch(`${t.url}/session/login`, { headers: { authorization: 'Bearer dr-quinn' } })
    expect(res.status).toBe(200)
    await untilHttpEvents(lines, 1)
    const events = t.events()
    expect(byAction(events, 'http-request')).toHaveLength(1)
    for (const e of events) expect(e.service).toMatchObject({ name: 'records-api', environment: 'staging' })
    // The logger injected into another module's service writes inside the request context.
    const [login] = byAction(events, 'user-login')
    expect(login!.user.id).toBe('dr-quinn')
    expect(login!.http.request.id).toBe(byAction(events, 'http-request')[0]!.http.request.id)
  })

  it('forRootAsync with useClass calls createBoundaryAuditOptions()', async () => {
    const lines: string[] = []
    @Injectable()
    class AuditConfig implements BoundaryAuditOptionsFactory {
      constructor(@Inject(ConfigService) private readonly config: ConfigService) {}
      createBoundaryAuditOptions(): BoundaryAuditModuleOptions {
        return {
          ...captureOptions(lines),
          service: { name: this.config.get<string>('AUDIT_SERVICE_NAME') },
          // The app's own actor resolver instead of the req.user conventions.
          actor: (req) =>
            req.headers['x-test-actor'] ? { id: String(req.headers['x-test-actor']) } : undefined,
        }
      }
    }
    const auditModule = BoundaryAuditModule.forRootAsync({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [appConfig] })],
      useClass: AuditConfig,
    })
    const t = await start(auditModule, lines)
    await (await fetch(`${t.url}/public/7`, { headers: { 'x-test-actor': 'svc-batch' } })).arrayBuffer()
    await untilHttpEvents(lines, 1)
    const [e] = byAction(t.events(), 'http-request')
    expect(e!.service.name).toBe('records-api')
    expect(e!.user.id).toBe('svc-batch')
  })

  it('is global by default: AUDIT_LOGGER resolves in modules that do not import it', async () => {
    const lines: string[] = []
    const t = await start(BoundaryAuditModule.forRoot(captureOptions(lines)), lines)
    const logger = t.app.get<AuditLogger>(AUDIT_LOGGER)
    expect(typeof logger.access).toBe('function')
    // PatientsModule's PatientStore injects it without importing the module (startApp wires it).
    expect(t.app.get(PatientsModule)).toBeDefined()
  })

  it('with isGlobal: false, other modules cannot inject it', async () => {
    const lines: string[] = []
    await expect(
      Test.createTestingModule({
        imports: [BoundaryAuditModule.forRoot({ ...captureOptions(lines), isGlobal: false }), PatientsModule],
      }).compile(),
    ).rejects.toThrow(/PatientStore/)
  })

  it('closes a logger it created on application shutdown', async () => {
    const lines: string[] = []
    const t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines)
    const logger = t.app.get<AuditLogger>(AUDIT_LOGGER)
    expect(logger.stats().healthy).toBe(true)
    await t.close()
    expect(logger.stats().healthy).toBe(false)
  })

  it('uses a logger passed in, and leaves it open on shutdown', async () => {
    const lines: string[] = []
    const audit = createAuditLogger(captureOptions(lines) as never)
    const t = await startApp(BoundaryAuditModule.forRoot({ logger: audit }), lines)
    expect(t.app.get(AUDIT_LOGGER)).toBe(audit)
    await (await fetch(`${t.url}/public/1`)).arrayBuffer()
    await untilHttpEvents(lines, 1)
    await t.close()
    expect(byAction(t.events(), 'http-request')).toHaveLength(1)
    expect(audit.stats().healthy).toBe(true)
    audit.event({ action: 'after-shutdown', category: 'process', type: 'info' })
    expect(byAction(t.events(), 'after-shutdown')).toHaveLength(1)
    await audit.close()
  })

  it('fails at start-up on bad options, saying what to change', async () => {
    const audit = createAuditLogger({ destination: { write: () => true } })
    await expect(
      Test.createTestingModule({
        imports: [BoundaryAuditModule.forRoot({ logger: audit, destination: 'stdout' })],
      }).compile(),
    ).rejects.toThrow(/both 'logger' and createAuditLogger\(\) options \(destination\)/)
    await expect(
      Test.createTestingModule({
        imports: [BoundaryAuditModule.forRoot({ actorr: () => undefined } as never)],
      }).compile(),
    ).rejects.toThrow(/unknown option 'actorr'/)
    await expect(
      Test.createTestingModule({
        imports: [BoundaryAuditModule.forRoot({ headers: ['authorization'] })],
      }).compile(),
    ).rejects.toThrow(/authorization/)
    await audit.close()
  })

  it('rejects a malformed @Audit() when the class is defined', () => {
    expect(() => Audit('', { resource: { type: 'patient' } })).toThrow(/action name/)
    expect(() => Audit('patient-record-read', {} as never)).toThrow(/resource must be/)
  })

  it('refuses the Fastify platform at start-up with a clear message', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BoundaryAuditModule.forRoot(captureOptions([]))],
    }).compile()
    const app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
    await expect(app.init()).rejects.toThrow(/supports the Express platform .* runs on 'fastify'/)
    await app.close().catch(() => undefined)
  })
})
