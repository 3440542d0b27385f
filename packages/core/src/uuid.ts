import { randomFillSync } from 'node:crypto'

/** UUIDs made per refill: one random fill and one string for all of them. */
const UUID_BATCH = 128
const uuidBytes = Buffer.allocUnsafe(16 * UUID_BATCH)
const uuidChars = Buffer.allocUnsafe(36 * UUID_BATCH)
const HEX = Buffer.from('0123456789abcdef', 'latin1')
let uuidText = ''
let uuidNext = UUID_BATCH

/**
 * A random (version 4) UUID, for event.id and request ids: from the same source as
 * crypto.randomUUID (crypto random bytes, 128 ids per fill, as Node does), but where Node builds each
 * id from sixteen pieces (a string the line writer must copy together again, and more garbage than
 * the rest of the id's work), here one batch of random bytes becomes one string and each id is a slice.
 */
export function randomUuid(): string {
  if (uuidNext === UUID_BATCH) refillUuids()
  const at = uuidNext++ * 36
  return uuidText.slice(at, at + 36)
}

function refillUuids(): void {
  randomFillSync(uuidBytes)
  let o = 0
  for (let u = 0; u < UUID_BATCH; u++) {
    const base = u * 16
    for (let j = 0; j < 16; j++) {
      if (j === 4 || j === 6 || j === 8 || j === 10) uuidChars[o++] = 0x2d // '-'
      let b = uuidBytes[base + j]!
      if (j === 6)
        b = (b & 0x0f) | 0x40 // version 4
      else if (j === 8) b = (b & 0x3f) | 0x80 // RFC 9562 variant
      uuidChars[o++] = HEX[b >> 4]!
      uuidChars[o++] = HEX[b & 15]!
    }
  }
  uuidText = uuidChars.toString('latin1', 0, o)
  uuidNext = 0
}
