import { KEYWORDS } from './keywords'
import type { Token } from './tokenize'

// Prints tokens back as one canonical line: literals are `?`, comments are gone, whitespace is one
// space, keywords are upper case, lists of placeholders (`IN (1, 2, 3)`, `ARRAY[...]`, multi-row
// `VALUES`) collapse to one element, so a statement has one form however many values it carries.

function upper(t: Token | undefined): string {
  return t && t.kind === 'word' ? t.value.toUpperCase() : ''
}

function isPlaceholder(t: Token | undefined): boolean {
  return !!t && (t.kind === 'literal' || t.kind === 'param')
}

/** A token after which `+`/`-` is a binary operator (so the sign belongs to an expression). */
function endsOperand(t: Token | undefined): boolean {
  if (!t) return false
  if (t.kind === 'literal' || t.kind === 'param' || t.kind === 'ident') return true
  if (t.kind === 'punct') return t.value === ')' || t.value === ']'
  if (t.kind === 'word') return !KEYWORDS.has(t.value.toUpperCase()) || upper(t) === 'NULL'
  return false
}

/** If tokens[start..] is `lit|param (, lit|param)* <close>`, returns the index of `<close>`, else -1. */
function placeholderList(tokens: Token[], start: number, close: string): number {
  let i = start
  let expectValue = true
  for (; i < tokens.length; i++) {
    const t = tokens[i]!
    if (expectValue) {
      if (t.kind === 'op' && (t.value === '-' || t.value === '+') && tokens[i + 1]?.kind === 'literal')
        continue
      if (!isPlaceholder(t)) return -1
      expectValue = false
    } else if (t.kind === 'punct' && t.value === ',') {
      expectValue = true
    } else if (t.kind === 'punct' && t.value === close) {
      return i
    } else {
      return -1
    }
  }
  return -1
}

/** Index of the bracket closing the one at `open`, or -1. */
export function matching(tokens: Token[], open: number): number {
  const o = tokens[open]!.value
  const c = o === '(' ? ')' : ']'
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind !== 'punct') continue
    if (t.value === o) depth++
    else if (t.value === c && --depth === 0) return i
  }
  return -1
}

/** Shape of a VALUES tuple for comparison: parameters and literals are the same thing. */
function shape(tokens: Token[], from: number, to: number): string {
  let s = ''
  for (let i = from; i <= to; i++) {
    const t = tokens[i]!
    s += isPlaceholder(t) ? '?' : t.kind === 'word' ? t.value.toUpperCase() : t.value
    s += ' '
  }
  return s
}

class Printer {
  private out = ''
  private last: Token | undefined

  emit(t: Token, text: string): void {
    if (this.out.length > 0 && this.spaceBetween(this.last!, t)) this.out += ' '
    this.out += text
    this.last = t
  }

  toString(): string {
    return this.out
  }

  private spaceBetween(a: Token, b: Token): boolean {
    if (a.kind === 'punct' && (a.value === '(' || a.value === '[' || a.value === '.')) return false
    if (a.kind === 'op' && a.value === '::') return false
    if (b.kind === 'punct') {
      if (b.value === ')' || b.value === ']' || b.value === ',' || b.value === '.' || b.value === ';')
        return false
      // f(x), arr[1]: no space; IN (...), VALUES (...): a space after a keyword
      if (b.value === '(' || b.value === '[') {
        if (a.kind === 'ident') return false
        if (a.kind === 'word') return KEYWORDS.has(a.value.toUpperCase())
        return !(a.kind === 'punct' && (a.value === ')' || a.value === ']'))
      }
    }
    if (b.kind === 'op' && b.value === '::') return false
    return true
  }
}

const QUESTION: Token = { kind: 'literal', value: '?' }

/** The normalised text of `tokens` (unbounded; the caller applies the length limit). */
export function printNormalized(tokens: Token[]): string {
  const p = new Printer()
  let prev: Token | undefined
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!

    // -5 and 5 are the same statement: fold a unary sign into the placeholder
    if (
      t.kind === 'op' &&
      (t.value === '-' || t.value === '+') &&
      tokens[i + 1]?.kind === 'literal' &&
      tokens[i + 1]!.numeric &&
      !endsOperand(prev)
    ) {
      continue
    }

    if (t.kind === 'punct' && (t.value === '(' || t.value === '[')) {
      const kw = upper(prev)
      // IN (1, 2, 3) / ANY (ARRAY[...]) / ARRAY[1, 2] -> one placeholder
      if (
        (t.value === '(' && (kw === 'IN' || kw === 'ANY' || kw === 'ALL')) ||
        (t.value === '[' && kw === 'ARRAY')
      ) {
        const close = t.value === '(' ? ')' : ']'
        const end = placeholderList(tokens, i + 1, close)
        if (end > 0) {
          p.emit(t, t.value)
          p.emit(QUESTION, '?')
          p.emit(tokens[end]!, close)
          prev = tokens[end]
          i = end
          continue
        }
      }
    }

    if (t.kind === 'word' && upper(t) === 'VALUES' && tokens[i + 1]?.value === '(') {
      // VALUES (..), (..), (..) with identical tuples -> VALUES (..), ...
      const firstEnd = matching(tokens, i + 1)
      if (firstEnd > 0) {
        const first = shape(tokens, i + 1, firstEnd)
        let end = firstEnd
        let rows = 1
        while (
          tokens[end + 1]?.value === ',' &&
          tokens[end + 2]?.value === '(' &&
          tokens[end + 2]!.kind === 'punct'
        ) {
          const e = matching(tokens, end + 2)
          if (e < 0 || shape(tokens, end + 2, e) !== first) break
          end = e
          rows++
        }
        if (rows > 1) {
          p.emit(t, 'VALUES')
          for (let k = i + 1; k <= firstEnd; k++) emitToken(p, tokens, k)
          p.emit({ kind: 'punct', value: ',' }, ',')
          p.emit({ kind: 'op', value: '...' }, '...')
          prev = tokens[end]
          i = end
          continue
        }
      }
    }

    emitToken(p, tokens, i)
    prev = t
  }
  return p.toString()
}

function emitToken(p: Printer, tokens: Token[], i: number): void {
  const t = tokens[i]!
  if (t.kind === 'word') {
    const u = t.value.toUpperCase()
    p.emit(t, KEYWORDS.has(u) ? u : t.value)
  } else {
    p.emit(t, t.value)
  }
}
