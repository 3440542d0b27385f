import type { AuditLogger } from '@boundary-audit/core'
import type { IdentityProvider } from '@boundary-audit/example-clinic-express/identity'
import { BoundaryAuditModule } from '@boundary-audit/nestjs'
import { type DynamicModule, Module } from '@nestjs/common'
import { APP_GUARD } from '@nestjs/core'
import type pg from 'pg'
import { AuthController } from './auth.controller.js'
import { BearerAuthGuard } from './auth.guard.js'
import { PatientsController } from './patients.controller.js'
import { IDENTITY, PG_POOL } from './tokens.js'

@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; register() makes the dynamic module
export class AppModule {
  /** The logger, pool and identity provider are made in main.ts (they outlive Nest's shutdown). */
  static register(deps: { audit: AuditLogger; pool: pg.Pool; idp: IdentityProvider }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // One http-request event per request (actor from req.user), @Audit access events, and the
        // audit context for everything the request does, including the pool's db-query events.
        BoundaryAuditModule.forRoot({ logger: deps.audit, ignore: ['/healthz'] }),
      ],
      controllers: [AuthController, PatientsController],
      providers: [
        { provide: PG_POOL, useValue: deps.pool },
        { provide: IDENTITY, useValue: deps.idp },
        { provide: APP_GUARD, useClass: BearerAuthGuard },
      ],
    }
  }
}
