// @boundary-audit/nestjs public entry point.

export type { AuditLogger } from '@boundary-audit/core'
export { AUDIT_ACCESS_METADATA, Audit } from './audit-decorator'
export { BoundaryAuditModule } from './module'
export { BOUNDARY_AUDIT_OPTIONS, type BoundaryAuditOptionsFactory } from './module-definition'
export { AUDIT_LOGGER, InjectAuditLogger } from './tokens'
export type {
  AuditOptions,
  AuditRequest,
  BoundaryAuditHttpOptions,
  BoundaryAuditModuleOptions,
} from './types'
