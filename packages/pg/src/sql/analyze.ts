import { fingerprint } from './fingerprint'
import { printNormalized } from './normalize'
import { describeStatement, splitStatements } from './summary'
import { tokenize } from './tokenize'

/** Everything the adapter derives from one SQL text. Holds no literal from it. */
export interface SqlAnalysis {
  /** Normalised text, at most `maxLength` characters. */
  normalized: string
  /** Whether `normalized` was cut. */
  truncated: boolean
  fingerprint: string
  operation: string | undefined
  collection: string | undefined
  summary: string | undefined
  /** Changes data or schema (`change`) rather than reading (`access`). */
  write: boolean
}

/** Longest input read; the rest of a giant statement (a 10 MB bulk insert) is not looked at. */
const MAX_INPUT = 100_000

/** Normalises and describes `sql`. Never throws for any string. */
export function analyzeSql(sql: string, maxLength = 2048): SqlAnalysis {
  const input = sql.length > MAX_INPUT ? sql.slice(0, MAX_INPUT) : sql
  const tokens = tokenize(input)
  const full = printNormalized(tokens)
  const statements = splitStatements(tokens)

  let operation: string | undefined
  let collection: string | undefined
  let write = false
  const summaries: string[] = []
  for (const statement of statements) {
    const info = describeStatement(statement)
    operation ??= info.operation
    collection ??= info.collection
    if (info.write) write = true
    if (info.summary && summaries.length < 8) summaries.push(info.summary)
  }
  let summary = summaries.length > 0 ? summaries.join('; ') : undefined
  if (summary && summary.length > 255) summary = summary.slice(0, 255)

  const truncated = full.length > maxLength
  // Cut at a token boundary where possible, so no half identifier is left at the end.
  let normalized = full
  if (truncated) {
    const cut = full.lastIndexOf(' ', maxLength - 4)
    normalized = `${full.slice(0, cut > maxLength / 2 ? cut : maxLength - 4)} ...`
  }
  return {
    normalized,
    truncated,
    fingerprint: fingerprint(full),
    operation,
    collection,
    summary,
    write,
  }
}
