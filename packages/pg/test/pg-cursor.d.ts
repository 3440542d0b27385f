// Minimal types for pg-cursor (no @types package is installed); only what the tests use.
declare module 'pg-cursor' {
  import { EventEmitter } from 'node:events'
  import type { Submittable } from 'pg'
  export default class Cursor<Row = any> extends EventEmitter implements Submittable {
    constructor(text: string, values?: unknown[], config?: { rowMode?: 'array'; types?: unknown })
    submit: Submittable['submit']
    read(rows: number): Promise<Row[]>
    read(rows: number, cb: (err: Error | undefined, rows: Row[]) => void): void
    close(): Promise<void>
    close(cb: (err?: Error) => void): void
  }
}
