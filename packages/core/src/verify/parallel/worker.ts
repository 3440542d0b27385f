/**
 * The verifier's worker thread (built to dist/verify-worker.cjs, started by pool.ts): reads the
 * segments it is sent (read-segment.ts) and answers each with its result, in the order received.
 */
import { parentPort } from 'node:worker_threads'
import { type KeyMessage, readSegment, type SegmentJob, StreamKeys } from './read-segment'

const port = parentPort
if (port) {
  const keys = new StreamKeys()
  port.on('message', (message: SegmentJob | KeyMessage) => {
    if ('stream' in message) {
      if (!keys.byStream.has(message.stream)) {
        keys.byStream.set(message.stream, { key: message.key ? Buffer.from(message.key) : undefined, seq: 0 })
      }
      return
    }
    const result = readSegment(message, keys)
    // Moved, not copied (each is a buffer of its own).
    const moved = [result.source.buffer, result.events.buffer, result.inputs.buffer] as ArrayBuffer[]
    port.postMessage(result, moved)
  })
}
