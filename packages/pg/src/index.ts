// @boundary-audit/pg public entry point.

export { instrumentPg } from './instrument'
export type { NormalizedSql } from './normalize-sql'
export { normalizeSql } from './normalize-sql'
export type { IgnoreRule, PgAuditOptions, QueryInfo, StatementTextMode, Uninstrument } from './types'
export { wrapClient } from './wrap-client'
export { wrapPool } from './wrap-pool'
