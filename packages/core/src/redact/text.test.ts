import { describe, expect, it } from 'vitest'
import {
  clean,
  cutAt,
  F_ADDR,
  F_AT,
  F_CUE,
  F_DIGIT,
  F_DIRTY,
  F_NAMECUE,
  F_PLUS,
  F_UPPER,
  runOf,
  scan,
} from './text'

describe('scan', () => {
  it('reports digits, @, +, capitals and the longest numeric run', () => {
    const info = scan('Call +1 (555) 123-4567 or mail a@b.co')
    expect(info & F_DIGIT).toBeTruthy()
    expect(info & F_AT).toBeTruthy()
    expect(info & F_PLUS).toBeTruthy()
    expect(info & F_UPPER).toBeTruthy()
    expect(runOf(info)).toBe(11)
    expect(runOf(scan('2026-11-29T01:14:31.123Z'))).toBe(8)
    expect(runOf(scan('8c1d2f6e-4b1a-4c55-9a57-0d7b7c1a1f20'))).toBeLessThan(9)
  })
  it('flags what the cleaner must remove', () => {
    expect(scan('plain text\nwith\ttabs') & F_DIRTY).toBe(0)
    for (const s of ['\x1b[31m', 'a\rb', '\u0000', '\ud800', 'x\udc00', '\u202e', '\u2028', '\x85']) {
      expect(scan(s) & F_DIRTY).toBe(F_DIRTY)
    }
    expect(scan('emoji 😀 ok') & F_DIRTY).toBe(0)
  })
  it('flags a possible street address only after an integer', () => {
    expect(scan('123 Main St') & F_ADDR).toBe(F_ADDR)
    expect(scan('12 5th Ave') & F_ADDR).toBe(F_ADDR)
    expect(scan('Chrome/131.0 Safari/537.36') & F_ADDR).toBe(0)
    expect(scan('v1.2 Beta') & F_ADDR).toBe(0)
  })
  it('flags cue words at word starts', () => {
    expect(scan('MRN 1') & F_CUE).toBe(F_CUE)
    expect(scan('patientDob') & F_CUE).toBe(F_CUE)
    expect(scan('D.O.B.') & F_CUE).toBe(F_CUE)
    expect(scan('date of birth') & F_CUE).toBe(F_CUE)
    expect(scan('Mr Smith') & F_NAMECUE).toBe(F_NAMECUE)
    expect(scan('full_name') & F_NAMECUE).toBe(F_NAMECUE)
    expect(scan('Mozilla') & (F_NAMECUE | F_CUE)).toBe(0)
  })
})

describe('clean', () => {
  it('removes ANSI sequences, controls, bidi overrides; replaces lone surrogates', () => {
    expect(clean('\x1b[1;31mred\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07')).toBe('red link')
    expect(clean('a\u0000b\rc\u007fd\u0085e')).toBe('abcde')
    expect(clean('8-bit CSI \u009b31mred')).toBe('8-bit CSI red')
    expect(clean('\u202egnp.exe')).toBe('gnp.exe')
    expect(clean('x\ud800y')).toBe('x\ufffdy')
    expect(clean('line\u2028sep')).toBe('line sep')
    expect(clean('keep\nnewline\tand tab')).toBe('keep\nnewline\tand tab')
  })
})

describe('cutAt', () => {
  it('backs off to the start of the token it would split', () => {
    expect(cutAt('alpha beta gamma', 13)).toBe('alpha beta')
    expect(cutAt('alpha beta gamma', 11)).toBe('alpha beta')
    expect(cutAt('abc', 10)).toBe('abc')
  })
  it('cuts a very long token where it must and never splits a surrogate pair', () => {
    expect(cutAt('x'.repeat(200), 100)).toHaveLength(100)
    const s = `${'a'.repeat(99)}😀`
    expect(cutAt(s, 100)).toBe('a'.repeat(99))
  })
})
