import { analyzeSql } from './sql/analyze'

/** The description of a SQL text that events carry; exported for tools and tests. */
export interface NormalizedSql {
  /** Literals replaced by `?`, comments removed, whitespace collapsed, lists collapsed, bounded. */
  text: string
  /** SHA-256 of the full normalised text, 16 hex characters. */
  fingerprint: string
  operation: string | undefined
  collection: string | undefined
  summary: string | undefined
  /** `change` for statements that write data or schema, `access` for reads. */
  type: 'access' | 'change'
}

/** Normalises a SQL text the way query events do. Never throws for a string. */
export function normalizeSql(sql: string, maxLength = 2048): NormalizedSql {
  const a = analyzeSql(String(sql), maxLength)
  return {
    text: a.normalized,
    fingerprint: a.fingerprint,
    operation: a.operation,
    collection: a.collection,
    summary: a.summary,
    type: a.write ? 'change' : 'access',
  }
}
