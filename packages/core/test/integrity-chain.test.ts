/** The sealing side: key evolution, HMAC, key sealing, chain records, state file, failure handling. */
import { createHash, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  CHAIN_ACTIONS,
  createChain,
  generateVerifierKeyPair,
  hmacSha256,
  keyId,
  loadVerifierPrivateKey,
  loadVerifierPublicKey,
  macInputOf,
  nextKey,
  sealKey,
  unsealKey,
  validateVerifierKey,
} from '../src/integrity/index'
import { verifyLines } from '../src/integrity/verify'

const pair = generateVerifierKeyPair()
const dir = mkdtempSync(join(tmpdir(), 'ba-chain-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const service = { name: 'svc', instance: 'pod-1' }

describe('key evolution and MAC', () => {
  it('k[i+1] = SHA-256(k[i])', () => {
    const k = randomBytes(32)
    expect(nextKey(k).equals(createHash('sha256').update(k).digest())).toBe(true)
  })

  it('hmacSha256 equals node:crypto HMAC-SHA-256 (property, incl. long and non-ASCII input)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ unit: 'grapheme', maxLength: 3000 }),
        (key, s) => {
          const k = Buffer.from(key)
          expect(hmacSha256(k, s)).toBe(createHmac('sha256', k).update(s).digest('base64url'))
        },
      ),
      { numRuns: 300 },
    )
    const k = randomBytes(32)
    const long = 'é'.repeat(50_000)
    expect(hmacSha256(k, long)).toBe(createHmac('sha256', k).update(long).digest('base64url'))
  })
})

describe('verifier keys and sealing k[0]', () => {
  const pub = loadVerifierPublicKey(pair.publicKeyPem)
  const priv = loadVerifierPrivateKey(pair.privateKeyPem)

  it('unseals with the private key, for the stream it was sealed for', () => {
    const k = randomBytes(32)
    const sealed = sealKey(k, pub, 'stream-1')
    expect(sealed.kid).toBe(keyId(pub))
    expect(sealed.kid).toBe(pair.kid)
    expect(unsealKey(sealed, priv, 'stream-1').equals(k)).toBe(true)
    expect(JSON.stringify(sealed)).not.toContain(k.toString('base64url'))
  })

  it('fails for another private key, another stream id, or an altered ciphertext', () => {
    const k = randomBytes(32)
    const sealed = sealKey(k, pub, 'stream-1')
    const other = loadVerifierPrivateKey(generateVerifierKeyPair().privateKeyPem)
    expect(() => unsealKey(sealed, other, 'stream-1')).toThrow()
    expect(() => unsealKey(sealed, priv, 'stream-2')).toThrow()
    const ct = Buffer.from(sealed.ct, 'base64url')
    ct[0]! ^= 1
    expect(() => unsealKey({ ...sealed, ct: ct.toString('base64url') }, priv, 'stream-1')).toThrow()
  })

  it('rejects keys that are not X25519 public keys with a message that says what to do', () => {
    expect(() => validateVerifierKey(pair.publicKeyPem)).not.toThrow()
    const path = join(dir, 'pub.pem')
    writeFileSync(path, pair.publicKeyPem)
    expect(() => validateVerifierKey(path)).not.toThrow()
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string
    expect(() => validateVerifierKey(ed)).toThrow(/must be an X25519 public key; got a ed25519 key.*keygen/)
    expect(() => validateVerifierKey(pair.privateKeyPem)).toThrow(/PRIVATE key/)
    expect(() => validateVerifierKey(join(dir, 'missing.pem'))).toThrow(
      /PEM text or the path of a PEM file.*ENOENT/,
    )
    expect(() => validateVerifierKey('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----')).toThrow(
      /not a readable PEM public key/,
    )
    expect(() => createChain({ service, verifierKey: ed, checkpointIntervalSeconds: 60 })).toThrow(TypeError)
    expect(() => createChain({ service, checkpointIntervalSeconds: -1 })).toThrow(/checkpointIntervalSeconds/)
  })
})

describe('createChain', () => {
  // Format 1's mechanics, record by record (format 2: integrity-v2.test.ts).
  const keyed = () =>
    createChain({ service, verifierKey: pair.publicKeyPem, checkpointIntervalSeconds: 30, version: 1 })

  it('writes genesis, events, checkpoints and a closing record linked by seq and prev', () => {
    const chain = keyed()
    expect(chain.keyed).toBe(true)
    expect(chain.streamId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const lines = [
      chain.seal(chain.genesis()),
      chain.seal({ message: 'one', event: { action: 'x' } }),
      chain.seal(chain.checkpoint()),
      chain.seal({ ...chain.closing('SIGTERM') }),
    ].map((l) => JSON.parse(l))
    const integ = lines.map((l) => l.audit.integrity)
    expect(integ.map((i) => i.seq)).toEqual([0, 1, 2, 3])
    expect(integ.map((i) => i.mark)).toEqual(['start', undefined, 'checkpoint', 'end'])
    for (let i = 1; i < 4; i++) expect(integ[i].prev).toBe(integ[i - 1].mac)
    expect(integ[0].prev).toBeUndefined()
    expect(integ[0]).toMatchObject({ alg: 'hmac-sha256', interval: 30, key: { kid: pair.kid } })
    expect(integ[1].key).toBeUndefined()
    expect(lines.map((l) => l.event.action)).toEqual([
      CHAIN_ACTIONS.start,
      'x',
      CHAIN_ACTIONS.checkpoint,
      CHAIN_ACTIONS.end,
    ])
    expect(lines[0].event).toMatchObject({
      kind: 'event',
      category: ['process'],
      type: ['start'],
      outcome: 'success',
    })
    expect(lines[2].event).toMatchObject({ kind: 'state', category: ['process'], type: ['info'] })
    expect(lines[3].event).toMatchObject({
      kind: 'event',
      category: ['process'],
      type: ['end'],
      reason: 'SIGTERM',
    })
    // Each MAC uses its own key: k[0] from the genesis, then SHA-256 onwards.
    let k = unsealKey(integ[0].key, loadVerifierPrivateKey(pair.privateKeyPem), chain.streamId)
    for (const l of lines) {
      expect(hmacSha256(k, macInputOf(l, l.audit.integrity.fields))).toBe(l.audit.integrity.mac)
      k = nextKey(k)
    }
  })

  it('keeps what seal adds small (under 600 bytes after the genesis)', () => {
    const chain = keyed()
    const genesis = chain.seal(chain.genesis())
    expect(genesis.length).toBeLessThan(1200)
    const record = { '@timestamp': 't', message: 'm', event: { action: 'x' }, user: { id: 'u' } }
    const line = chain.seal({ ...record })
    expect(line.length - JSON.stringify(record).length).toBeLessThan(600)
  })

  it('without a verifier key, runs an unkeyed SHA-256 chain', () => {
    const chain = createChain({ service, checkpointIntervalSeconds: 60, version: 1 })
    expect(chain.keyed).toBe(false)
    const g = JSON.parse(chain.seal(chain.genesis()))
    expect(g.audit.integrity.alg).toBe('sha256')
    expect(g.audit.integrity.key).toBeUndefined()
    expect(g.message).toMatch(/NOT keyed/)
    const i = g.audit.integrity
    expect(createHash('sha256').update(macInputOf(g, i.fields)).digest('base64url')).toBe(i.mac)
  })

  it('names the previous stream of the same instance from the state file', () => {
    const stateFile = join(dir, 'state.json')
    const first = keyed()
    const a = createChain({
      service,
      verifierKey: pair.publicKeyPem,
      checkpointIntervalSeconds: 30,
      stateFile,
    })
    a.seal(a.genesis())
    a.seal({ message: 'x' })
    const cp = JSON.parse(a.seal(a.checkpoint()))
    a.seal({ message: 'after the checkpoint' })
    // crash: no closing record
    const b = createChain({
      service,
      verifierKey: pair.publicKeyPem,
      checkpointIntervalSeconds: 30,
      stateFile,
    })
    const gb = JSON.parse(b.seal(b.genesis()))
    expect(gb.audit.integrity.previous).toEqual({
      stream: a.streamId,
      seq: 2,
      mac: cp.audit.integrity.mac,
      closed: false,
    })
    const end = JSON.parse(b.seal(b.closing()))
    const c = createChain({ service, checkpointIntervalSeconds: 30, stateFile })
    const gc = JSON.parse(c.seal(c.genesis()))
    expect(gc.audit.integrity.previous).toEqual({
      stream: b.streamId,
      seq: 1,
      mac: end.audit.integrity.mac,
      closed: true,
    })
    // Another instance does not inherit it.
    const d = createChain({
      service: { ...service, instance: 'pod-2' },
      checkpointIntervalSeconds: 30,
      stateFile,
    })
    expect(JSON.parse(d.seal(d.genesis())).audit.integrity.previous).toBeUndefined()
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).stream).toBe(d.streamId)
    expect(first.streamId).not.toBe(a.streamId)
  })

  it('ignores an unreadable or unwritable state file', () => {
    const chain = createChain({
      service,
      checkpointIntervalSeconds: 30,
      stateFile: join(dir, 'no', 'such', 'dir', 's.json'),
    })
    expect(() => chain.seal(chain.genesis())).not.toThrow()
  })

  it('never throws: unserialisable records still give one sealed, verifiable line', () => {
    const chain = keyed()
    const lines = [chain.seal(chain.genesis())]
    const cyclic: Record<string, unknown> = { message: 'cyclic' }
    cyclic.self = cyclic
    const throwing = {
      message: 'getter',
      get boom() {
        throw new Error('no')
      },
    }
    lines.push(chain.seal(cyclic))
    lines.push(chain.seal(throwing as Record<string, unknown>))
    lines.push(chain.seal({ big: 10n, sym: Symbol('s'), fn: () => 1, date: new Date(0) }))
    lines.push(chain.seal(null as unknown as Record<string, unknown>))
    lines.push(chain.seal(chain.closing()))
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow()
    expect(JSON.parse(lines[2]!).event.action).toBe('audit-internal-error')
    const r = verifyLines(lines, { privateKey: pair.privateKeyPem })
    expect(r.findings).toEqual([])
    expect(r.exitCode).toBe(0)
  })

  it('asks the caller to shrink a record whose line would be too long, then seals the shrunk one', () => {
    const calls: number[] = []
    const chain = createChain({
      service,
      checkpointIntervalSeconds: 30,
      maxLineBytes: 4096,
      shrink: (record, budget) => {
        calls.push(budget)
        record.message = String(record.message).slice(0, 100)
      },
    })
    const lines = [chain.seal(chain.genesis()), chain.seal({ message: 'x'.repeat(10_000) })]
    expect(calls.length).toBe(1)
    expect(calls[0]).toBeLessThan(4096)
    expect(Buffer.byteLength(lines[1]!)).toBeLessThanOrEqual(4096)
    expect(verifyLines(lines).findings).toEqual([])
  })
})
