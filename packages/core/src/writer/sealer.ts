/**
 * The sealer: the one stage that turns accepted items into written lines, the same code on the
 * logger's thread ('inline') and on the sealing thread (seal-worker.ts).
 *
 * It seals late: items wait unsealed in its queue and are sealed only while the output has room
 * (what is handed over and not yet written stays under a small window). Whatever never gets
 * written (the deadline passes, the destination dies) is then still unsealed, so it can be
 * dropped without leaving a hole in the chain: it is counted (loss.ts) and the count is sealed as a
 * loss record before the next record, and as a total in checkpoints and the closing record.
 *
 * With chain format 2, the records of one chunk form one epoch (integrity/chain.ts): the last record
 * of the chunk, or a chain record (genesis, loss, checkpoint, closing), or the 1,000th record seals
 * it. The record sealed last is held back until it is known whether it ends the epoch, so that no line
 * leaves here before its epoch is sealed and its key erased.
 *
 * Per item, in order:
 * - a record: preceded by a loss record when losses are pending; sealed (chain on) or passed as is.
 * - a loss note from the logger (its buffer was full): counted.
 * - checkpoint / close: the chain's own record, with audit.loss.total when anything was lost.
 * - a line of the app's own logger (audit.destination()): written as it is, never sealed.
 */
import { type Prepared, prepareRecord } from '../integrity/assemble'
import { type Chain, type IntegrityFields, MAX_EPOCH_RECORDS, type SealedParts } from '../integrity/chain'
import { decodeItem, type Item, itemChars } from './items'
import { createLossLedger, type LossLedger, type LossReason, withLossTotal } from './loss'
import type { Output } from './output'

export interface SealerOptions {
  /** Absent: integrity off, records carry their finished line. */
  chain: Chain | undefined
  /** ECS `service` and `ecs.version` for the chain's own records. */
  service: unknown
  ecsVersion: string
  output: Output
  maxLineBytes: number
  /**
   * Seal the genesis with the first item rather than at once (the sealing thread: should it die
   * before writing anything, the stream can start over on the logger's thread under the same id).
   */
  lazyGenesis?: boolean
  /** Called with each record (and its integrity fields) as it is sealed: OpenTelemetry. */
  onSealed?: (record: Record<string, unknown>, integrity: IntegrityFields | undefined) => void
  /** Characters of sealed lines handed to the output at once (at least; a chunk ends after the line that reaches it). Default CHUNK. */
  chunkChars?: number
}

export interface Sealer {
  /**
   * Queues an item (an encoded one from the logger's thread, or the item itself). `ascii`: every
   * character of it is ASCII (the sealing thread checks each batch): a chunk made only of such items
   * and of the integrity fields (ASCII by construction) goes to the output marked so (Output.write).
   */
  push(item: Item | string, ascii?: boolean): void
  /** Seals and hands over what the output has room for. Never throws. */
  pump(): void
  /** `done` runs once everything pushed so far is written, or can no longer be. */
  whenDone(done: () => void): void
  /** The shutdown deadline is near: records not yet sealed are dropped and counted from now on. */
  expire(): void
  readonly ledger: LossLedger
  /** Characters queued and not yet sealed (or dropped). */
  readonly queuedChars: number
  /** Characters taken off the queue so far. */
  readonly consumedChars: number
  /** Items taken off the queue so far. */
  readonly consumed: number
  /** Events sealed and handed to the output. */
  readonly sealed: number
  /** Events this stage dropped (deadline, destination), not counting the logger's own notes. */
  readonly dropped: number
  /** App lines (audit.destination()) dropped: the deadline, or the destination failed. */
  readonly textDropped: number
  /** The closing record is sealed and handed over. */
  readonly closed: boolean
  /** Anything (the genesis at least) was handed to the output. */
  readonly began: boolean
}

/** Characters of sealed lines handed to the output at once. */
export const CHUNK = 64 * 1024

export function createSealer(options: SealerOptions): Sealer {
  const { chain, output, onSealed } = options
  const chunkChars = options.chunkChars ?? CHUNK
  const ledger = createLossLedger()
  let queue: Array<Item | string | undefined> = []
  /** Per queued item (same index as `queue`): known to be ASCII. */
  let asciiQueue: boolean[] = []
  // The integrity text is ASCII (base64url, digits, fixed words) but for the stream id, which is
  // the caller's: checked once. The chain's own records (service name, reasons) are never counted ASCII.
  const streamAscii = chain === undefined || isAscii(chain.streamId)
  let head = 0
  let pushed = 0
  let consumed = 0
  let queuedChars = 0
  let consumedChars = 0
  let sealed = 0
  let dropped = 0
  let textDropped = 0
  let expired = false
  let closed = false
  let pumping = false
  let seenLost = 0
  const waiting: { at: number; done: () => void }[] = []
  /** Every line of the chunk being built is known to be ASCII so far. */
  let chunkAscii = false

  const charsOf = (item: Item | string) => (typeof item === 'string' ? item.length : itemChars(item))
  const now = () => new Date().toISOString()

  const drop = (count: number, reason: LossReason) => {
    dropped += count
    ledger.note(count, reason, now())
  }

  /** The record sealed last, while its epoch may still go on. */
  let held: { parts: SealedParts; record: Record<string, unknown> | undefined } | undefined

  /** The held record's line: as sealed (the epoch goes on), or as the epoch's last record. */
  const release = (endsEpoch: boolean): string => {
    const h = held
    if (h === undefined) return ''
    held = undefined
    const integrity = (endsEpoch ? chain?.endEpoch() : undefined) ?? h.parts.integrity
    if (h.record) onSealed?.(h.record, h.parts.fields)
    return `${h.parts.head}${integrity}${h.parts.tail}\n`
  }

  /** Seals a record into the open epoch; returns the line of the one held before it. */
  const sealRecord = (prepared: Prepared, record: Record<string, unknown> | undefined): string => {
    const before = release(false)
    held = { parts: chain!.sealParts(prepared), record }
    return chain!.open >= MAX_EPOCH_RECORDS ? `${before}${release(true)}` : before
  }

  /** One of the chain's own records, sealed as the end of its epoch: a line (with newline), or '' without a chain. */
  const chainLine = (record: Record<string, unknown>): string => {
    chunkAscii = false
    record['ecs.version'] = options.ecsVersion
    record.service = options.service
    if (!chain) return `${JSON.stringify(record)}\n`
    let prepared: Prepared
    try {
      prepared = prepareRecord(record, { maxLineBytes: options.maxLineBytes, version: chain.version })
    } catch {
      return ''
    }
    const before = sealRecord(prepared, record)
    return `${before}${release(true)}`
  }

  const lossLine = (): string => {
    const record = ledger.take(now())
    return record ? chainLine(record) : ''
  }

  /** The item's lines (with newlines); counts the events among them in `chunkEvents`. */
  let chunkEvents = 0
  const linesOf = (item: Item): string => {
    switch (item.kind) {
      case 'record': {
        if (expired || closed) {
          drop(1, expired ? 'shutdown-deadline' : 'other')
          return ''
        }
        // Lines a caller's destination refused after they were sealed are losses too.
        const lost = output.lost
        if (lost > seenLost) {
          ledger.note(lost - seenLost, 'destination-error', now())
          seenLost = lost
        }
        const before = ledger.pending > 0 ? lossLine() : ''
        chunkEvents++
        if (!chain || item.prepared === undefined) {
          if (item.record) onSealed?.(item.record, undefined)
          return `${before}${release(false)}${item.line ?? ''}\n`
        }
        return `${before}${sealRecord(item.prepared, item.record)}`
      }
      case 'loss':
        ledger.note(item.count, item.reason, item.since)
        return ''
      case 'text':
        // The app's own line, in its place. Past the deadline it goes like a record (the margin is
        // for the loss and closing records); after the close it is still written.
        if (expired) {
          textDropped++
          return ''
        }
        // After the record held before it (its epoch goes on; the chunk leaves once sealed).
        return `${release(false)}${item.text}\n`
      case 'checkpoint':
        if (closed || !chain) return ''
        return chainLine(withLossTotal(chain.checkpoint(), ledger.total))
      case 'close': {
        if (closed) return ''
        closed = true
        if (!chain) return ''
        const before = lossLine()
        return `${before}${chainLine(withLossTotal(chain.closing(item.reason), ledger.total))}`
      }
    }
  }

  const settle = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!
      if (consumed >= w.at || output.failed) {
        waiting.splice(i, 1)
        output.whenWritten(w.done)
      }
    }
  }

  /** The next item off the queue (decoded), or undefined when it cannot be read. */
  const takeOne = (): Item | undefined => {
    const raw = queue[head]!
    chunkAscii &&= asciiQueue[head] === true
    queue[head++] = undefined
    consumed++
    const chars = charsOf(raw)
    queuedChars -= chars
    consumedChars += chars
    try {
      return typeof raw === 'string' ? decodeItem(raw) : raw
    } catch {
      // An item that cannot be read (it should not happen: items are ours): counted, not sealed.
      drop(1, 'other')
      return undefined
    }
  }

  /** The destination is gone: nothing queued can be written any more. */
  const dropQueued = () => {
    let records = 0
    while (head < queue.length) {
      const item = takeOne()
      if (!item) continue
      if (item.kind === 'record') records++
      else if (item.kind === 'text') textDropped++
      else if (item.kind === 'loss') ledger.note(item.count, item.reason, item.since)
    }
    drop(records, 'destination-error')
  }

  const pump = () => {
    if (pumping) return
    pumping = true
    try {
      while (head < queue.length) {
        if (output.failed) {
          dropQueued()
          break
        }
        // Past the deadline everything left is dropped or is the closing record: no need to wait.
        if (!output.room && !expired) break
        chunkAscii = streamAscii
        let chunk = began ? '' : genesisLine()
        chunkEvents = 0
        while (head < queue.length && chunk.length < chunkChars) {
          const item = takeOne()
          if (item) chunk += linesOf(item)
        }
        // The chunk is one epoch: sealed before any of it is handed over.
        chunk += release(true)
        sealed += chunkEvents
        if (chunk.length > 0) output.write(chunk, chunkEvents, chunkAscii)
      }
      if (head > 4096 && head * 2 > queue.length) {
        queue = queue.slice(head)
        asciiQueue = asciiQueue.slice(head)
        head = 0
      }
    } finally {
      pumping = false
    }
    settle()
  }

  let began = false
  const genesisLine = () => {
    began = true
    return chain ? chainLine(chain.genesis()) : ''
  }
  if (!options.lazyGenesis) {
    const genesis = genesisLine()
    if (genesis) output.write(genesis, 0)
  }

  return {
    push(item, ascii) {
      queue.push(item)
      asciiQueue.push(ascii === true)
      pushed++
      queuedChars += charsOf(item)
    },
    pump,
    whenDone(done) {
      waiting.push({ at: pushed, done })
      settle()
    },
    expire() {
      expired = true
      pump()
    },
    ledger,
    get queuedChars() {
      return queuedChars
    },
    get consumedChars() {
      return consumedChars
    },
    get consumed() {
      return consumed
    },
    get sealed() {
      return sealed
    },
    get dropped() {
      return dropped
    },
    get textDropped() {
      return textDropped
    },
    get closed() {
      return closed
    },
    get began() {
      return began
    },
  }
}

/** Every character is ASCII: its UTF-8 bytes are its characters. */
export function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length
}
