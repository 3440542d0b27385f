import { matching } from './normalize'
import type { Token } from './tokenize'

// What a statement does and to which table, read from the tokens without a full parser:
// `db.operation.name` (the statement's first keyword, the one after the CTEs for WITH),
// `db.collection.name` (its main table) and a low-cardinality `db.query.summary` in the spirit of
// OpenTelemetry's semantic conventions ("SELECT patients", "INSERT visits SELECT patients").

export interface StatementInfo {
  operation: string | undefined
  collection: string | undefined
  summary: string | undefined
  /** True when the statement changes data or schema (ECS `event.type: change`). */
  write: boolean
}

/** Statements that only read or control the session/transaction. Anything else counts as a change. */
const READ_OPS = new Set([
  'SELECT',
  'VALUES',
  'TABLE',
  'SHOW',
  'EXPLAIN',
  'FETCH',
  'MOVE',
  'DECLARE',
  'CLOSE',
  'BEGIN',
  'START',
  'COMMIT',
  'END',
  'ROLLBACK',
  'ABORT',
  'SAVEPOINT',
  'RELEASE',
  'PREPARE',
  'DEALLOCATE',
  'SET',
  'RESET',
  'DISCARD',
  'LISTEN',
  'UNLISTEN',
  'NOTIFY',
  'LOCK',
  'CHECKPOINT',
])

const DML = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE'])
const WRITE_DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE'])
const DDL = new Set(['CREATE', 'ALTER', 'DROP'])
/** Words between CREATE/DROP and the object kind. */
const DDL_MODIFIERS = new Set([
  'OR',
  'REPLACE',
  'TEMP',
  'TEMPORARY',
  'UNLOGGED',
  'GLOBAL',
  'LOCAL',
  'UNIQUE',
  'RECURSIVE',
])
/** Words that may sit between a table keyword and the table name. */
const NAME_SKIP = new Set(['ONLY', 'LATERAL', 'IF', 'NOT', 'EXISTS', 'CONCURRENTLY', 'TABLE'])
/** After these, a word is a clause, not a table alias. */
const CLAUSE_WORDS = new Set([
  'WHERE',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'NATURAL',
  'ON',
  'USING',
  'GROUP',
  'ORDER',
  'LIMIT',
  'OFFSET',
  'HAVING',
  'WINDOW',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'FOR',
  'SET',
  'RETURNING',
  'VALUES',
  'SELECT',
  'DEFAULT',
  'OVERRIDING',
  'FETCH',
  'WHEN',
  'TABLESAMPLE',
  'DO',
])

const MAX_SUMMARY = 255

function up(t: Token | undefined): string {
  return t && t.kind === 'word' ? t.value.toUpperCase() : ''
}

function isName(t: Token | undefined): boolean {
  return !!t && (t.kind === 'word' || t.kind === 'ident')
}

/** `"Patients"` -> `Patients`, `U&"x"` -> `x`. */
function unquote(t: Token): string {
  if (t.kind !== 'ident') return t.value
  const start = t.value.indexOf('"')
  return t.value.slice(start + 1, -1).replace(/""/g, '"')
}

/** Reads `name` or `schema.name` at `i`; returns the name and the index after it. */
function readName(tokens: Token[], i: number): { name: string; next: number } | undefined {
  if (!isName(tokens[i])) return undefined
  let name = unquote(tokens[i]!)
  let j = i + 1
  while (tokens[j]?.kind === 'punct' && tokens[j]!.value === '.' && isName(tokens[j + 1])) {
    name += `.${unquote(tokens[j + 1]!)}`
    j += 2
  }
  return { name, next: j }
}

/** Splits at top-level `;`. */
export function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind !== 'punct') continue
    if (t.value === '(' || t.value === '[') depth++
    else if (t.value === ')' || t.value === ']') depth = Math.max(0, depth - 1)
    else if (t.value === ';' && depth === 0) {
      if (i > start) out.push(tokens.slice(start, i))
      start = i + 1
    }
  }
  if (start < tokens.length) out.push(start === 0 ? tokens : tokens.slice(start))
  return out
}

/** Analyses one statement (no top-level `;`). */
export function describeStatement(tokens: Token[], cteNames?: ReadonlySet<string>): StatementInfo {
  let i = 0
  while (tokens[i]?.kind === 'punct' && tokens[i]!.value === '(') i++
  const first = up(tokens[i])
  if (!first) return { operation: undefined, collection: undefined, summary: undefined, write: false }

  const parts: string[] = []
  let write = false
  let main = i
  let operation = first
  const ctes = new Set(cteNames)

  if (first === 'WITH') {
    // WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] ( body ) [, ...] main-statement
    let j = i + 1
    if (up(tokens[j]) === 'RECURSIVE') j++
    for (;;) {
      if (!isName(tokens[j])) break
      ctes.add(unquote(tokens[j]!))
      j++
      if (tokens[j]?.value === '(') {
        const e = matching(tokens, j)
        if (e < 0) break
        j = e + 1
      }
      if (up(tokens[j]) !== 'AS') break
      j++
      if (up(tokens[j]) === 'NOT') j++
      if (up(tokens[j]) === 'MATERIALIZED') j++
      if (tokens[j]?.value !== '(') break
      const e = matching(tokens, j)
      if (e < 0) break
      const body = describeStatement(tokens.slice(j + 1, e), ctes)
      if (body.write) write = true
      if (body.summary) parts.push(body.summary)
      j = e + 1
      // SEARCH / CYCLE clauses of recursive CTEs: skip to the next comma or the main statement
      while (
        j < tokens.length &&
        tokens[j]!.value !== ',' &&
        !DML.has(up(tokens[j])) &&
        tokens[j]!.value !== '('
      )
        j++
      if (tokens[j]?.value === ',') {
        j++
        continue
      }
      break
    }
    while (tokens[j]?.kind === 'punct' && tokens[j]!.value === '(') j++
    main = j
    operation = up(tokens[j]) || 'WITH'
  }

  let collection: string | undefined
  if (DML.has(operation) || operation === 'VALUES' || operation === 'TABLE') {
    const r = walkDml(tokens, main, ctes)
    parts.push(...r.parts)
    collection = r.collection
    if (r.write) write = true
  } else {
    const r = describeOther(tokens, main, operation)
    parts.push(r.summary)
    collection = r.collection
    if (r.write) write = true
  }

  if (!READ_OPS.has(operation) && operation !== 'COPY') write = true
  let summary = dedupe(parts).join(' ')
  if (summary.length > MAX_SUMMARY) summary = summary.slice(0, MAX_SUMMARY)
  return { operation, collection, summary: summary || undefined, write }
}

/** Removes an operation repeated with nothing in between ("SELECT SELECT a" -> "SELECT a"). */
function dedupe(parts: string[]): string[] {
  const out: string[] = []
  for (const p of parts) {
    if (out.length > 0 && out[out.length - 1] === p && DML.has(p)) continue
    out.push(p)
  }
  return out
}

/**
 * Walks a SELECT / INSERT / UPDATE / DELETE / MERGE, collecting operations and table names in the
 * order they appear (FROM, JOIN, INTO, UPDATE, USING, comma-separated FROM lists, subqueries).
 */
function walkDml(
  tokens: Token[],
  start: number,
  ctes: ReadonlySet<string>,
): { parts: string[]; collection?: string; write: boolean } {
  const parts: string[] = []
  let collection: string | undefined
  let collectionDepth = Number.POSITIVE_INFINITY
  let write = false
  let depth = 0

  const addTable = (name: string, d: number) => {
    // a reference to a CTE is not a table; the CTE's own tables were already collected
    if (ctes.has(name)) return
    parts.push(name)
    if (d < collectionDepth) {
      collection = name
      collectionDepth = d
    }
  }

  /** Reads a table reference and, in FROM lists, the ones after commas. */
  const readTables = (j: number, list: boolean, fromClause = list): number => {
    for (;;) {
      while (NAME_SKIP.has(up(tokens[j]))) j++
      const r = readName(tokens, j)
      if (!r) return j
      // FROM generate_series(...): a function, not a table
      if (fromClause && tokens[r.next]?.value === '(' && tokens[r.next]!.kind === 'punct') return r.next
      addTable(r.name, depth)
      j = r.next
      if (!list) return j
      // optional alias: [AS] alias [(cols)]
      if (up(tokens[j]) === 'AS') j++
      if (isName(tokens[j]) && !CLAUSE_WORDS.has(up(tokens[j]))) j++
      if (tokens[j]?.value === ',' && isName(tokens[j + 1]) && !CLAUSE_WORDS.has(up(tokens[j + 1]))) {
        j++
        continue
      }
      return j
    }
  }

  for (let i = start; i < tokens.length; ) {
    const t = tokens[i]!
    if (t.kind === 'punct') {
      if (t.value === '(' || t.value === '[') depth++
      else if (t.value === ')' || t.value === ']') depth--
      i++
      continue
    }
    const w = up(t)
    if (!w) {
      i++
      continue
    }
    const prev = tokens[i - 1]
    const prevWord = i > start ? up(prev) : ''
    // INSERT/UPDATE/DELETE/MERGE start a statement only at the start, after "(" or ")";
    // elsewhere they are clauses (FOR UPDATE, ON DELETE, DO UPDATE, THEN INSERT).
    const startsStatement =
      i === start ||
      (prev?.kind === 'punct' && (prev.value === '(' || prev.value === ')')) ||
      prevWord === 'AS'
    if (w === 'SELECT' || ((WRITE_DML.has(w) || w === 'VALUES') && startsStatement)) {
      if (w !== 'VALUES') parts.push(w)
      if (WRITE_DML.has(w)) write = true
      if (w === 'UPDATE') {
        i = readTables(i + 1, false)
        continue
      }
      i++
      continue
    }
    if (w === 'TABLE' && i === start) {
      parts.push('SELECT')
      i = readTables(i + 1, false)
      continue
    }
    if (w === 'FROM') {
      i = readTables(i + 1, true)
      continue
    }
    if (w === 'JOIN') {
      i = readTables(i + 1, false, true)
      continue
    }
    if (w === 'INTO') {
      // SELECT ... INTO new_table creates a table
      if (parts[0] === 'SELECT' && depth === 0 && prevWord !== 'INSERT') write = true
      i = readTables(i + 1, false)
      continue
    }
    if (w === 'USING' && (parts.includes('DELETE') || parts.includes('MERGE'))) {
      i = readTables(i + 1, true)
      continue
    }
    i++
  }
  return { parts, collection, write }
}

/** DDL, COPY, TRUNCATE, LOCK, transaction control and the rest. */
function describeOther(
  tokens: Token[],
  i: number,
  operation: string,
): { summary: string; collection?: string; write: boolean } {
  let write = false
  if (DDL.has(operation)) {
    let j = i + 1
    while (DDL_MODIFIERS.has(up(tokens[j]))) j++
    let kind = up(tokens[j])
    if (kind === 'MATERIALIZED' && up(tokens[j + 1]) === 'VIEW') {
      kind = 'MATERIALIZED VIEW'
      j++
    }
    if (!kind) return { summary: operation, write: true }
    j++
    if (kind === 'INDEX') {
      // CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table
      while (j < tokens.length && up(tokens[j]) !== 'ON') j++
      const r = readName(tokens, skipWords(tokens, j + 1))
      return {
        summary: r ? `${operation} INDEX ${r.name}` : `${operation} INDEX`,
        collection: r?.name,
        write: true,
      }
    }
    const r = readName(tokens, skipWords(tokens, j))
    const isTable = kind === 'TABLE' || kind === 'VIEW' || kind === 'MATERIALIZED VIEW'
    const named = ['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'SEQUENCE', 'SCHEMA'].includes(kind)
    return {
      summary: named && r ? `${operation} ${kind} ${r.name}` : `${operation} ${kind}`,
      collection: isTable ? r?.name : undefined,
      write: true,
    }
  }
  if (operation === 'TRUNCATE' || operation === 'LOCK' || operation === 'VACUUM' || operation === 'ANALYZE') {
    const r = readName(tokens, skipWords(tokens, i + 1))
    return {
      summary: r ? `${operation} ${r.name}` : operation,
      collection: r?.name,
      write: operation !== 'LOCK',
    }
  }
  if (operation === 'COPY') {
    if (tokens[i + 1]?.value === '(') {
      const e = matching(tokens, i + 1)
      const inner = e > 0 ? describeStatement(tokens.slice(i + 2, e)) : undefined
      return {
        summary: inner?.summary ? `COPY ${inner.summary}` : 'COPY',
        collection: inner?.collection,
        write: false,
      }
    }
    const r = readName(tokens, i + 1)
    // COPY t FROM ... loads data; COPY t TO ... reads it
    let from = false
    for (let j = r?.next ?? i + 1; j < tokens.length; j++) {
      const w = up(tokens[j])
      if (w === 'FROM') from = true
      if (w === 'FROM' || w === 'TO') break
    }
    write = from
    return { summary: r ? `COPY ${r.name}` : 'COPY', collection: r?.name, write }
  }
  if (operation === 'START' && up(tokens[i + 1]) === 'TRANSACTION')
    return { summary: 'START TRANSACTION', write }
  if (operation === 'EXPLAIN') {
    let j = i + 1
    if (tokens[j]?.value === '(') j = matching(tokens, j) + 1
    while (['ANALYZE', 'ANALYSE', 'VERBOSE'].includes(up(tokens[j]))) j++
    const inner = j > 0 && j < tokens.length ? describeStatement(tokens.slice(j)) : undefined
    return {
      summary: inner?.summary ? `EXPLAIN ${inner.summary}` : 'EXPLAIN',
      collection: inner?.collection,
      write,
    }
  }
  return { summary: operation, write }
}

function skipWords(tokens: Token[], j: number): number {
  while (NAME_SKIP.has(up(tokens[j]))) j++
  return j
}
