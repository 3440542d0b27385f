/**
 * What flows from the logger to the sealer, in acceptance order: records and the few instructions
 * that must keep their place among them (a loss counted before a record, a checkpoint, the close).
 * On the way to the sealing thread each item is one line of text (a batch is lines joined by '\n').
 */
import { decodePrepared, encodePrepared, type Prepared } from '../integrity/assemble'
import type { LossReason } from './loss'

export type Item =
  /** An event: prepared for the chain, or (chain off) its finished line. `record` for OpenTelemetry. */
  | { kind: 'record'; prepared?: Prepared; line?: string; record?: Record<string, unknown> }
  /** Events the logger could not take (buffer full): sealed as a loss record before the next record. */
  | { kind: 'loss'; count: number; reason: LossReason; since: string }
  | { kind: 'checkpoint' }
  | { kind: 'close'; reason?: string }
  /**
   * A line of the app's own logger (audit.destination(), app-destination.ts), without its newline:
   * written in its place among the records, never sealed, never counted as an event.
   */
  | { kind: 'text'; text: string }

/**
 * Encoded records start with their mark or the separator \u0001 (or \u0003 with the chain off);
 * instructions with \u0002; the app's lines with \u0004.
 */
const CONTROL = '\u0002'

export function encodeItem(item: Item): string {
  if (item.kind === 'record') return item.prepared ? encodePrepared(item.prepared) : `\u0003${item.line}`
  if (item.kind === 'text') return `\u0004${item.text}`
  return `${CONTROL}${JSON.stringify(item)}`
}

export function decodeItem(text: string): Item {
  const c = text.charCodeAt(0)
  if (c === 2) return JSON.parse(text.slice(1)) as Item
  if (c === 3) return { kind: 'record', line: text.slice(1) }
  if (c === 4) return { kind: 'text', text: text.slice(1) }
  return { kind: 'record', prepared: decodePrepared(text) }
}

/** Characters an item holds (what the buffer bound counts). */
export function itemChars(item: Item): number {
  if (item.kind === 'text') return item.text.length
  if (item.kind !== 'record') return 64
  if (item.line !== undefined) return item.line.length
  const p = item.prepared!
  if (p.sorted !== undefined) return p.sorted.head.length + p.sorted.tail.length + p.fields.length
  const t = p.template!
  return t.lineHead.length + t.lineTail.length + t.macHead.length + t.macTail.length + p.fields.length
}
