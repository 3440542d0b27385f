// A PostgreSQL lexer just precise enough to tell literals from everything else. It never needs to
// understand the grammar: normalisation only has to find every literal (so none is ever written)
// and keep keywords, identifiers, parameters and operators (so the statement stays recognisable).
// Lexical rules: https://www.postgresql.org/docs/current/sql-syntax-lexical.html

/** Token kinds. `literal` covers strings of every flavour, numbers and bit/hex strings. */
export type TokenKind = 'word' | 'ident' | 'param' | 'literal' | 'op' | 'punct'

export interface Token {
  kind: TokenKind
  /** Source text for words, quoted identifiers, parameters, operators and punctuation; `?` for literals. */
  value: string
  /** True for numeric literals (so a leading sign can be folded into the placeholder). */
  numeric?: boolean
}

const OP_CHARS = '+-*/<>=~!@#%^&|`?'

/** Characters that may continue an unquoted identifier (`$` allowed after the first one). */
function isIdentPart(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || // a-z
    (c >= 65 && c <= 90) || // A-Z
    (c >= 48 && c <= 57) || // 0-9
    c === 95 || // _
    c === 36 || // $
    c >= 128
  )
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * Splits `sql` into tokens, dropping whitespace and comments. Malformed input never throws:
 * an unterminated string, dollar quote or comment simply runs to the end (and a string that
 * runs to the end is still a literal, so its content is never kept).
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  const n = sql.length
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)

    // whitespace
    if (c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++
      continue
    }

    // -- line comment
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i + 2)
      i = end === -1 ? n : end + 1
      continue
    }

    // /* block comment */ (nests in PostgreSQL)
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      i = skipBlockComment(sql, i)
      continue
    }

    // 'string'
    if (c === 39) {
      i = skipQuoted(sql, i, false)
      pushLiteral(tokens, false)
      continue
    }

    // "quoted identifier"
    if (c === 34) {
      const end = skipQuotedIdent(sql, i)
      tokens.push({ kind: 'ident', value: sql.slice(i, end) })
      i = end
      continue
    }

    // $1 parameter, or $tag$ dollar-quoted string $tag$
    if (c === 36) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        let j = i + 1
        while (j < n && isDigit(sql.charCodeAt(j))) j++
        tokens.push({ kind: 'param', value: sql.slice(i, j) })
        i = j
        continue
      }
      const end = skipDollarQuoted(sql, i)
      if (end > 0) {
        i = end
        pushLiteral(tokens, false)
        continue
      }
      tokens.push({ kind: 'op', value: '$' })
      i++
      continue
    }

    // numbers: 42, 3.14, .5, 1e-3, 0x1F, 1_000
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      i = skipNumber(sql, i)
      pushLiteral(tokens, true)
      continue
    }

    // words, including the string prefixes E'', B'', X'', N'' and U&'' / U&""
    if (isIdentStart(c)) {
      let j = i + 1
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++
      const next = sql.charCodeAt(j)
      if (j === i + 1 && next === 39) {
        const p = c | 32 // lower case
        if (p === 101 || p === 98 || p === 120 || p === 110) {
          // e / b / x / n prefix: E'' honours backslash escapes
          i = skipQuoted(sql, j, p === 101)
          pushLiteral(tokens, false)
          continue
        }
      }
      if (j === i + 1 && (c | 32) === 117 && next === 38) {
        const q = sql.charCodeAt(j + 1)
        if (q === 39) {
          i = skipQuoted(sql, j + 1, false)
          pushLiteral(tokens, false)
          continue
        }
        if (q === 34) {
          const end = skipQuotedIdent(sql, j + 1)
          tokens.push({ kind: 'ident', value: sql.slice(i, end) })
          i = end
          continue
        }
      }
      tokens.push({ kind: 'word', value: sql.slice(i, j) })
      i = j
      continue
    }

    // :: cast
    if (c === 58 && sql.charCodeAt(i + 1) === 58) {
      tokens.push({ kind: 'op', value: '::' })
      i += 2
      continue
    }

    // punctuation
    if (c === 40 || c === 41 || c === 91 || c === 93 || c === 44 || c === 59 || c === 46) {
      tokens.push({ kind: 'punct', value: sql[i]! })
      i++
      continue
    }

    // operators: a run of operator characters, cut before a comment start
    if (OP_CHARS.includes(sql[i]!)) {
      let j = i + 1
      while (j < n && OP_CHARS.includes(sql[j]!)) {
        const d = sql.charCodeAt(j)
        const e = sql.charCodeAt(j + 1)
        if ((d === 45 && e === 45) || (d === 47 && e === 42)) break
        j++
      }
      tokens.push({ kind: 'op', value: sql.slice(i, j) })
      i = j
      continue
    }

    // anything else (':' for array slices, stray characters): one character operator
    tokens.push({ kind: 'op', value: sql[i]! })
    i++
  }
  return tokens
}

/** Adjacent literals ('a' 'b' continuation, or a prefix we did not merge) become one placeholder. */
function pushLiteral(tokens: Token[], numeric: boolean): void {
  const last = tokens[tokens.length - 1]
  if (last && last.kind === 'literal') {
    last.numeric = last.numeric && numeric
    return
  }
  tokens.push({ kind: 'literal', value: '?', numeric })
}

function skipBlockComment(sql: string, start: number): number {
  let depth = 0
  let i = start
  const n = sql.length
  while (i < n) {
    const c = sql.charCodeAt(i)
    const d = sql.charCodeAt(i + 1)
    if (c === 47 && d === 42) {
      depth++
      i += 2
    } else if (c === 42 && d === 47) {
      depth--
      i += 2
      if (depth === 0) return i
    } else {
      i++
    }
  }
  return n
}

/**
 * From an opening quote at `start` (`'` for a string, `"` for a quoted identifier), returns the index
 * after the closing one; a doubled quote stands for itself. `backslashEscapes`: E'...' strings, where
 * a backslash escapes the next character.
 */
function skipQuoted(sql: string, start: number, backslashEscapes: boolean, quote = 39): number {
  const n = sql.length
  let i = start + 1
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (backslashEscapes && c === 92) {
      i += 2
      continue
    }
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return n
}

function skipQuotedIdent(sql: string, start: number): number {
  return skipQuoted(sql, start, false, 34)
}

/** `$$...$$` or `$tag$...$tag$`; returns 0 when `$` does not open a dollar quote. */
function skipDollarQuoted(sql: string, start: number): number {
  const n = sql.length
  let j = start + 1
  if (j < n && sql.charCodeAt(j) !== 36) {
    if (!isIdentStart(sql.charCodeAt(j))) return 0
    while (j < n && sql.charCodeAt(j) !== 36) {
      const c = sql.charCodeAt(j)
      if (!isIdentPart(c) || c === 36) return 0
      j++
    }
    if (j >= n) return 0
  }
  const tag = sql.slice(start, j + 1)
  const end = sql.indexOf(tag, j + 1)
  return end === -1 ? n : end + tag.length
}

function skipNumber(sql: string, start: number): number {
  const n = sql.length
  let i = start
  const c = sql.charCodeAt(i)
  const p = sql.charCodeAt(i + 1) | 32
  if (c === 48 && (p === 120 || p === 111 || p === 98)) {
    // 0x / 0o / 0b (PostgreSQL 16): hex digits cover all three
    i += 2
    while (i < n && (isHex(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i++
    return i
  }
  while (i < n && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i++
  if (sql.charCodeAt(i) === 46 && sql.charCodeAt(i + 1) !== 46) {
    i++
    while (i < n && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 95)) i++
  }
  if ((sql.charCodeAt(i) | 32) === 101) {
    let j = i + 1
    const s = sql.charCodeAt(j)
    if (s === 43 || s === 45) j++
    if (isDigit(sql.charCodeAt(j))) {
      i = j
      while (i < n && isDigit(sql.charCodeAt(i))) i++
    }
  }
  // A number glued to letters (123abc) is still one token in PostgreSQL's eyes for our purpose.
  while (i < n && isIdentPart(sql.charCodeAt(i))) i++
  return i
}

function isHex(c: number): boolean {
  return isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102)
}
