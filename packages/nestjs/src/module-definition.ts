import { ConfigurableModuleBuilder } from '@nestjs/common'
import type { BoundaryAuditModuleOptions } from './types'

/**
 * `forRoot(options)` and `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`
 * come from Nest's builder. `isGlobal` (default true) is an extra, not an option of the logger:
 * the audit logger is one per process, so every module should see the same one.
 */
export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: BOUNDARY_AUDIT_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BoundaryAuditModuleOptions>({ moduleName: 'BoundaryAudit' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createBoundaryAuditOptions')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build()

/** What a `forRootAsync({ useClass })` class implements. */
export interface BoundaryAuditOptionsFactory {
  createBoundaryAuditOptions(): BoundaryAuditModuleOptions | Promise<BoundaryAuditModuleOptions>
}
