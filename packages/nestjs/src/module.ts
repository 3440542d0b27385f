import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
  type Provider,
  RequestMethod,
} from '@nestjs/common'
import { APP_FILTER, APP_GUARD, HttpAdapterHost, ModuleRef } from '@nestjs/core'
import { AuditEnforceGuard } from './enforce-guard'
import { AuditErrorFilter } from './error-filter'
import { countResponses, createAuditMiddleware, hookServer } from './exchange-start'
import { AuditHandlerGuard, MIDDLEWARE_WILDCARD } from './handler-guard'
import {
  type ASYNC_OPTIONS_TYPE,
  BOUNDARY_AUDIT_OPTIONS,
  ConfigurableModuleClass,
  type OPTIONS_TYPE,
} from './module-definition'
import { placeGlobalEnhancers } from './place-enhancers'
import { AUDIT_RUNTIME, type AuditRuntime, createRuntime } from './runtime'
import { AUDIT_LOGGER } from './tokens'

// Path-to-regexp 8 syntax (Nest 11 and later): a named, optional wildcard that also matches `/`.
// The legacy `*` makes Nest 11 log a deprecation warning at start-up. The name is ours, so that the
// event of a request no route matched does not take this wildcard as its route (see routeOfRequest).
const ALL_ROUTES = { path: `{*${MIDDLEWARE_WILDCARD}}`, method: RequestMethod.ALL }

// Factories rather than classes with constructor injection: the published build is compiled by
// esbuild, which does not emit decorator metadata, so injection is spelled out here.
const PROVIDERS: Provider[] = [
  { provide: AUDIT_RUNTIME, useFactory: createRuntime, inject: [BOUNDARY_AUDIT_OPTIONS] },
  { provide: AUDIT_LOGGER, useFactory: (runtime: AuditRuntime) => runtime.logger, inject: [AUDIT_RUNTIME] },
  {
    provide: AuditHandlerGuard,
    useFactory: (runtime: AuditRuntime) => new AuditHandlerGuard(runtime),
    inject: [AUDIT_RUNTIME],
  },
  { provide: AuditEnforceGuard, useFactory: () => new AuditEnforceGuard() },
  { provide: AuditErrorFilter, useFactory: () => new AuditErrorFilter() },
  { provide: APP_GUARD, useExisting: AuditHandlerGuard },
  { provide: APP_GUARD, useExisting: AuditEnforceGuard },
  // No global interceptor: Nest would build an Observable pipeline for every request of every
  // route (about 120 k instructions a request). `@Audit` puts one on its own handlers; errors are
  // noted by the filter.
  { provide: APP_FILTER, useExisting: AuditErrorFilter },
]

/**
 * Writes one `http-request` audit event per HTTP request, names the controller and handler on it,
 * writes the access events of `@Audit` handlers, and runs each request inside the audit context.
 *
 * ```ts
 * @Module({ imports: [BoundaryAuditModule.forRoot({ service: { name: 'records-api' } })] })
 * export class AppModule {}
 * ```
 * Global by default (`isGlobal: false` to change); the logger is injectable anywhere as
 * `@Inject(AUDIT_LOGGER)` (or `@InjectAuditLogger()`).
 */
@Module({})
export class BoundaryAuditModule
  extends ConfigurableModuleClass
  implements NestModule, OnApplicationShutdown
{
  constructor(
    @Inject(AUDIT_RUNTIME) private readonly runtime: AuditRuntime,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(AuditHandlerGuard) private readonly guard: AuditHandlerGuard,
    @Inject(AuditEnforceGuard) private readonly enforceGuard: AuditEnforceGuard,
    @Inject(AuditErrorFilter) private readonly errorFilter: AuditErrorFilter,
  ) {
    super()
  }

  static forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    // biome-ignore lint/complexity/noThisInStatic: `super` keeps `this` as the module class in the definition
    return withProviders(super.forRoot(options), options?.isGlobal)
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    // biome-ignore lint/complexity/noThisInStatic: as above
    return withProviders(super.forRootAsync(options), options?.isGlobal)
  }

  configure(consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost?.httpAdapter
    if (!adapter) return
    const type = typeof adapter.getType === 'function' ? adapter.getType() : undefined
    if (type !== 'express') {
      throw new Error(
        `boundary-audit: @boundary-audit/nestjs supports the Express platform (@nestjs/platform-express) only; this application runs on '${String(type)}'. Create the app with NestFactory.create(AppModule) (Express is the default), or remove BoundaryAuditModule and audit requests another way.`,
      )
    }
    const counted = countResponses(adapter)
    hookServer(safeServer(adapter), this.runtime, counted)
    placeGlobalEnhancers(this.moduleRef, {
      first: this.guard,
      last: this.enforceGuard,
      filter: this.errorFilter,
    })
    consumer.apply(createAuditMiddleware(this.runtime, counted)).forRoutes(ALL_ROUTES)
  }

  async onApplicationShutdown(): Promise<void> {
    // Runs after every module's onModuleDestroy, so their last events are in. A logger the app
    // passed in is only flushed: the app may still use it after Nest has shut down.
    const { logger, owned } = this.runtime
    if (owned) await logger.close()
    else await logger.flush()
  }
}

// `global` is set here too: before Nest 11.1 the builder dropped extras in the async form.
function withProviders(definition: DynamicModule, isGlobal: boolean | undefined): DynamicModule {
  return {
    ...definition,
    global: isGlobal ?? true,
    providers: [...(definition.providers ?? []), ...PROVIDERS],
    exports: [...(definition.exports ?? []), AUDIT_LOGGER],
  }
}

function safeServer(adapter: { getHttpServer?: () => unknown }): unknown {
  try {
    return adapter.getHttpServer?.()
  } catch {
    return undefined
  }
}
