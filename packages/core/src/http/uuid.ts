import { randomFillSync } from 'node:crypto'

/**
 * Random (version 4) UUIDs for request ids, as `crypto.randomUUID()` makes them, from the same
 * source (crypto random bytes, drawn 128 ids at a time as Node does), but written as ASCII into
 * one buffer per batch and read out as a single flat string. Node builds each id from ~20 string
 * concatenations (~560 bytes of garbage per id), which shows in the scavenger at one id per request.
 */
const BATCH = 128
const HEX = Buffer.from('0123456789abcdef', 'latin1')
const random = Buffer.alloc(16 * BATCH)
const text = Buffer.alloc(36 * BATCH)
let next = BATCH

function refill(): void {
  randomFillSync(random)
  let t = 0
  for (let r = 0; r < random.length; r += 16) {
    // RFC 9562: version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
    random[r + 6] = ((random[r + 6] as number) & 0x0f) | 0x40
    random[r + 8] = ((random[r + 8] as number) & 0x3f) | 0x80
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[t++] = 0x2d
      const b = random[r + i] as number
      text[t++] = HEX[b >> 4] as number
      text[t++] = HEX[b & 15] as number
    }
  }
  next = 0
}

export function randomRequestUuid(): string {
  if (next === BATCH) refill()
  const start = next++ * 36
  return text.toString('latin1', start, start + 36)
}
