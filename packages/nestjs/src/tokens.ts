import { Inject } from '@nestjs/common'

/**
 * Injection token of the module's `AuditLogger` (the object `createAuditLogger()` returns):
 * `constructor(@Inject(AUDIT_LOGGER) private readonly audit: AuditLogger) {}`, or the shorthand
 * `@InjectAuditLogger()`. A symbol from the global registry, so the ESM and CommonJS builds of this
 * package (both may be loaded in one app) agree on it.
 */
export const AUDIT_LOGGER: unique symbol = Symbol.for('boundary-audit.nestjs.logger')

/** `@InjectAuditLogger()` is `@Inject(AUDIT_LOGGER)`. */
export function InjectAuditLogger(): PropertyDecorator & ParameterDecorator {
  return Inject(AUDIT_LOGGER)
}
