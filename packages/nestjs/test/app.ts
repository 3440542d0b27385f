import 'reflect-metadata'
import type { Socket } from 'node:net'
import { compilePolicy, pseudonymize } from '@boundary-audit/core'
import {
  BadRequestException,
  Body,
  type CanActivate,
  ConflictException,
  Controller,
  Delete,
  type ExecutionContext,
  ForbiddenException,
  Get,
  type INestApplication,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  type PipeTransform,
  Post,
  Req,
  SetMetadata,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common'
import { APP_GUARD, Reflector } from '@nestjs/core'
import { Test } from '@nestjs/testing'
import type { AuditLogger } from '../src/index'
import { AUDIT_LOGGER, Audit, type BoundaryAuditModuleOptions } from '../src/index'

export const PSEUDONYM_KEY = 'nestjs-test-pseudonym-key-0123456789'
const policy = compilePolicy({ pseudonymKey: PSEUDONYM_KEY })
/** What core writes for a resource id or route parameter under the test key. */
export const pseudonymOf = (value: string) => pseudonymize(value, policy, 'resource')

const PUBLIC = 'test:public'
export const Public = () => SetMetadata(PUBLIC, true)

/**
 * The app's own global auth guard, registered with APP_GUARD in the root module as Nest's docs
 * recommend: `Authorization: Bearer <user>[:role,role]` sets a Passport-style `req.user`. Without a
 * token it rejects with 401, before any controller guard, which is what the audit must survive.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride(PUBLIC, [context.getHandler(), context.getClass()])) return true
    const req = context.switchToHttp().getRequest()
    const header = req.headers.authorization as string | undefined
    if (!header?.startsWith('Bearer ')) throw new UnauthorizedException()
    const [sub, roles] = header.slice(7).split(':') as [string, string?]
    req.user = { sub, roles: roles ? roles.split(',') : [], iss: 'https://idp.test' }
    return true
  }
}

/** A controller-level guard that needs role `clinician`: 403 otherwise. */
@Injectable()
export class ClinicianGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest().user
    if (!user?.roles?.includes('clinician')) throw new ForbiddenException('clinician role required')
    return true
  }
}

/** A pipe that rejects note bodies without `text`, with a message that echoes the input. */
class NotePipe implements PipeTransform {
  transform(value: any) {
    if (typeof value?.text !== 'string')
      throw new BadRequestException(`invalid note: ${JSON.stringify(value)}`)
    return value
  }
}

/** Stands in for a data layer: what @boundary-audit/pg writes for each query, inside the context. */
@Injectable()
export class PatientStore {
  constructor(@Inject(AUDIT_LOGGER) private readonly audit: AuditLogger) {}
  async find(id: string): Promise<{ id: string }> {
    // Yield to the event loop so concurrent requests interleave.
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 15)))
    this.audit.dbQuery({
      system: 'postgresql',
      operation: 'SELECT',
      collection: 'patients',
      text: 'SELECT * FROM patients WHERE id = $1',
      rows: 1,
      outcome: 'success',
    })
    return { id }
  }
}

/** How far requests to `GET /patients/:id/slow` have got, for tests that abort one mid-handler. */
export const slowHandler = { entered: 0, returned: 0 }

@Controller('patients')
export class PatientsController {
  constructor(@Inject(PatientStore) private readonly store: PatientStore) {}

  @Get(':id')
  @Audit('patient-record-read', { resource: (req) => ({ type: 'patient', id: req.params.id }) })
  findOne(@Param('id') id: string) {
    return this.store.find(id)
  }

  @Get(':id/missing')
  @Audit('patient-record-read', { resource: (req) => ({ type: 'patient', id: req.params.id }) })
  missing(@Param('id') id: string) {
    throw new NotFoundException(`patient ${id} not found`)
  }

  @Get(':id/crash')
  crash(@Param('id') id: string) {
    throw new Error(`lookup failed for patient ${id}`)
  }

  @Get(':id/locked')
  @Audit('patient-record-read', { resource: (req) => ({ type: 'patient', id: req.params.id }) })
  async locked(@Param('id') id: string) {
    await new Promise((r) => setTimeout(r, 5))
    throw new ConflictException(`chart of ${id} is locked`)
  }

  @Get(':id/slow')
  @Audit('patient-record-read', { resource: (req) => ({ type: 'patient', id: req.params.id }) })
  async slow(@Param('id') id: string, @Req() req: { socket: Socket }) {
    slowHandler.entered++
    // Holds the request open until the client goes away (at most 5 s), so a test can abort mid-handler.
    await new Promise((r) => {
      req.socket.once('close', r)
      setTimeout(r, 5000).unref()
    })
    slowHandler.returned++
    return { id }
  }

  @Post(':id/notes')
  addNote(@Param('id') _id: string, @Body(new NotePipe()) note: { text: string }) {
    return { saved: note.text.length }
  }

  @Delete(':id')
  @UseGuards(ClinicianGuard)
  @Audit('patient-record-delete', { resource: (req) => ({ type: 'patient', id: req.params.id }) })
  remove(@Param('id') _id: string) {
    return { deleted: true }
  }
}

@Controller()
export class HealthController {
  @Public()
  @Get('health')
  health() {
    return { ok: true }
  }

  @Public()
  @Get('public/:code')
  code(@Param('code') code: string) {
    return { code }
  }
}

@Module({ controllers: [PatientsController], providers: [PatientStore] })
export class PatientsModule {}

export interface TestApp {
  app: INestApplication
  url: string
  lines: string[]
  events: () => Record<string, any>[]
  close: () => Promise<void>
}

export function captureOptions(
  lines: string[],
  extra: BoundaryAuditModuleOptions = {},
): BoundaryAuditModuleOptions {
  return {
    service: { name: 'nest-test' },
    destination: { write: (l: string) => lines.push(l) },
    redaction: { pseudonymKey: PSEUDONYM_KEY },
    integrity: { checkpointIntervalSeconds: 0 },
    ...extra,
  }
}

/** Builds the app with @nestjs/testing, listens on 127.0.0.1 on a free port. */
export async function startApp(
  auditModule: any,
  lines: string[],
  extraImports: any[] = [],
  setup?: (app: INestApplication) => void,
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [auditModule, PatientsModule, ...extraImports],
    controllers: [HealthController],
    providers: [{ provide: APP_GUARD, useClass: BearerAuthGuard }],
  }).compile()
  const app = moduleRef.createNestApplication({ logger: false })
  setup?.(app)
  await app.listen(0, '127.0.0.1')
  const address = app.getHttpServer().address()
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    lines,
    events: () => lines.map((l) => JSON.parse(l)),
    close: () => app.close(),
  }
}

/** Events of one action (`http-request`, `patient-record-read`, `db-query` ...). */
export function byAction(events: Record<string, any>[], action: string): Record<string, any>[] {
  return events.filter((e) => e.event?.action === action)
}

/**
 * Polls until `check` holds. The http-request event is written when the response finishes, which
 * may be after the client has read the response: tests wait for the events they expect this way.
 */
export async function until(
  check: () => boolean,
  what = 'the expected events',
  timeoutMs = 5000,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/**
 * Waits until `lines` holds at least `count` request events (category `web`, whatever the action
 * option names them), of the request ids `ids` accepts if given.
 */
export function untilHttpEvents(
  lines: readonly string[],
  count: number,
  ids?: (id: string) => boolean,
): Promise<void> {
  const matches = () =>
    lines
      .map((l) => JSON.parse(l))
      .filter((e) => e.event?.category?.includes('web') && (!ids || ids(String(e.http?.request?.id)))).length
  return until(() => matches() >= count, `${count} request event(s)`)
}
