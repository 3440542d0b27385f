/**
 * `audit.destination()`: where the app's own logger (pino, or anything that writes lines) writes when
 * it shares stdout with the audit lines. Its lines join the audit logger's one ordered writer, so
 * that only one writer ever writes to the pipe.
 *
 * Why one writer: two writers on one pipe tear each other's lines whenever the reader is slow. A
 * write(2) of more than PIPE_BUF (4 KiB) to a full non-blocking pipe returns short, in the middle of
 * a line, and the rest goes out later, after whatever the other writer wrote meanwhile. A write of
 * at most PIPE_BUF is atomic, but an atomic line that lands after the other writer's half line is
 * torn all the same (the reader sees the half line and the whole line as one). Batching sizes or
 * write sizes on one side cannot prevent it; only one writer can. With this destination, what the
 * pipe receives is the writer's own sequence of whole lines: audit records and app lines in the
 * order they were logged, each line written whole, whatever the reader does.
 *
 * The object is what pino accepts as a destination (`pino(options, audit.destination())`): `write`,
 * `flush(cb)`, `flushSync()`, `end()`, and the EventEmitter methods. It takes text or bytes in any
 * pieces and passes on whole lines only: a piece without a newline waits for the rest.
 */
import { EventEmitter } from 'node:events'
import { StringDecoder } from 'node:string_decoder'
import type { AuditDestination } from '../types'

/** What the logger gives the destination. */
export interface AppLineSink {
  /** One whole line, without its newline (it holds none). */
  line(line: string): void
  /** Resolves once every line given so far is written (or can no longer be). */
  flush(): Promise<void>
}

/** A line still without its newline is passed on once it is this long (a logger that never ends lines). */
const MAX_HELD = 1024 * 1024

export class AppDestination extends EventEmitter implements AuditDestination {
  private held = ''
  private decoder: StringDecoder | undefined
  private ended = false

  constructor(private readonly sink: AppLineSink) {
    super()
  }

  /** False once end() was called. */
  get writable(): boolean {
    return !this.ended
  }

  /** Takes text or UTF-8 bytes; passes on every whole line. Never throws; always true (no backpressure). */
  write(chunk: string | Uint8Array): boolean {
    if (this.ended) return false
    let text: string
    if (typeof chunk === 'string') text = chunk
    else {
      this.decoder ??= new StringDecoder('utf8')
      text = this.decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
    }
    let from = 0
    let nl = text.indexOf('\n')
    if (nl !== -1 && this.held.length > 0) {
      this.pass(this.held + text.slice(0, nl))
      this.held = ''
      from = nl + 1
      nl = text.indexOf('\n', from)
    }
    while (nl !== -1) {
      this.pass(text.slice(from, nl))
      from = nl + 1
      nl = text.indexOf('\n', from)
    }
    if (from < text.length) {
      this.held += text.slice(from)
      if (this.held.length >= MAX_HELD) {
        this.pass(this.held)
        this.held = ''
      }
    }
    return true
  }

  /** Calls `cb` once every whole line written so far is written to the destination. */
  flush(cb?: (err?: Error | null) => void): void {
    this.sink.flush().then(
      () => cb?.(null),
      (err: Error) => cb?.(err),
    )
  }

  /**
   * Nothing can be written synchronously from here; the logger's exit hook writes what is queued
   * when the process exits. Present because pino calls it on some paths.
   */
  flushSync(): void {}

  /** Passes a last line without a newline, if any; later writes are refused. */
  end(): void {
    if (this.ended) return
    const rest = (this.decoder?.end() ?? '') + this.held
    this.held = ''
    if (rest.length > 0) this.pass(rest)
    this.ended = true
    this.flush(() => {
      this.emit('finish')
      this.emit('close')
    })
  }

  private pass(line: string): void {
    try {
      this.sink.line(line)
    } catch {
      // the sink never throws; a logger's write must not either
    }
  }
}
