/**
 * The verifier's X25519 key pair and how the first chain key is sealed to it.
 *
 * Sealing is ECIES-shaped, node:crypto only: a fresh ephemeral X25519 key pair per stream,
 * shared secret = X25519(ephemeral private, verifier public), wrapping key =
 * HKDF-SHA-256(shared, salt = ephemeral public ‖ verifier public, info = label ‖ stream id),
 * then AES-256-GCM over k[0] with the stream id as additional data (a sealed key cannot be
 * moved to another stream). The ephemeral private key is dropped at once, so only the holder of
 * the verifier's private key can recover k[0].
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto'
import { readFileSync } from 'node:fs'

export const SEAL_ALG = 'X25519-HKDF-SHA256-A256GCM'
const HKDF_INFO = 'boundary-audit genesis key v1 '

/** The sealed k[0] as written in the genesis record (all binary fields base64url). */
export interface SealedKey {
  alg: string
  /** Key id of the verifier public key it is sealed to. */
  kid: string
  /** Ephemeral X25519 public key, raw 32 bytes. */
  epk: string
  iv: string
  /** AES-256-GCM ciphertext followed by the 16-byte tag. */
  ct: string
}

function rawPublic(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' })
  return Buffer.from(jwk.x as string, 'base64url')
}

/** Short, stable id of a verifier public key: base64url of the first 12 bytes of SHA-256(raw key). */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublic(publicKey)).digest().subarray(0, 12).toString('base64url')
}

function looksLikePem(text: string): boolean {
  return text.includes('-----BEGIN ')
}

/** PEM text, or a path to a PEM file. */
function readPem(source: string, what: string): string {
  if (looksLikePem(source)) return source
  try {
    return readFileSync(source, 'utf8')
  } catch (err) {
    throw new TypeError(
      `boundary-audit: ${what} must be PEM text or the path of a PEM file; could not read ${JSON.stringify(
        source.length > 200 ? `${source.slice(0, 200)}…` : source,
      )} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    )
  }
}

/** Parses and checks a verifier public key (PEM text or path). Throws a TypeError that says what to change. */
export function loadVerifierPublicKey(source: string): KeyObject {
  const pem = readPem(source, 'integrity.verifierKey (BOUNDARY_AUDIT_VERIFIER_KEY)')
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
    throw new TypeError(
      'boundary-audit: integrity.verifierKey (BOUNDARY_AUDIT_VERIFIER_KEY) holds a PRIVATE key; services get verifier-public.pem, the private key stays with the auditors',
    )
  }
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch {
    throw new TypeError(
      'boundary-audit: integrity.verifierKey (BOUNDARY_AUDIT_VERIFIER_KEY) is not a readable PEM public key; create one with `boundary-audit keygen --out DIR` and use DIR/verifier-public.pem',
    )
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new TypeError(
      `boundary-audit: integrity.verifierKey (BOUNDARY_AUDIT_VERIFIER_KEY) must be an X25519 public key; got a ${key.asymmetricKeyType} key. Create one with \`boundary-audit keygen --out DIR\``,
    )
  }
  return key
}

/** Throws a TypeError when `pem` (text or path) is not an X25519 public key. */
export function validateVerifierKey(pem: string): void {
  loadVerifierPublicKey(pem)
}

/** Parses a verifier private key (PEM text, path, or KeyObject). */
export function loadVerifierPrivateKey(source: string | KeyObject): KeyObject {
  if (typeof source !== 'string') {
    if (source.type !== 'private' || source.asymmetricKeyType !== 'x25519') {
      throw new TypeError('boundary-audit: the verifier private key must be an X25519 private key')
    }
    return source
  }
  const pem = readPem(source, 'the verifier private key')
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    throw new TypeError(
      'boundary-audit: the verifier private key is not a readable (unencrypted) PEM private key; it is the verifier-private.pem written by `boundary-audit keygen`',
    )
  }
  if (key.asymmetricKeyType !== 'x25519') {
    throw new TypeError(
      `boundary-audit: the verifier private key must be an X25519 key; got a ${key.asymmetricKeyType} key`,
    )
  }
  return key
}

export interface VerifierKeyPair {
  publicKeyPem: string
  privateKeyPem: string
  kid: string
}

export function generateVerifierKeyPair(): VerifierKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519')
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    kid: keyId(publicKey),
  }
}

function wrappingKey(shared: Buffer, epkRaw: Buffer, verifierRaw: Buffer, stream: string): Buffer {
  const salt = Buffer.concat([epkRaw, verifierRaw])
  return Buffer.from(hkdfSync('sha256', shared, salt, HKDF_INFO + stream, 32))
}

/** Seals `key` (k[0]) to the verifier public key for stream `stream`. */
export function sealKey(key: Buffer, verifier: KeyObject, stream: string): SealedKey {
  const eph = generateKeyPairSync('x25519')
  const epkRaw = rawPublic(eph.publicKey)
  const verifierRaw = rawPublic(verifier)
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: verifier })
  const wrap = wrappingKey(shared, epkRaw, verifierRaw, stream)
  shared.fill(0)
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', wrap, iv)
  cipher.setAAD(Buffer.from(stream, 'utf8'))
  const ct = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()])
  wrap.fill(0)
  return {
    alg: SEAL_ALG,
    kid: keyId(verifier),
    epk: epkRaw.toString('base64url'),
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
  }
}

/**
 * Recovers k[0]. Throws when the private key does not match or the sealed key (or the stream id it
 * is bound to) was altered; AES-GCM authentication makes both visible.
 */
export function unsealKey(sealed: SealedKey, privateKey: KeyObject, stream: string): Buffer {
  if (sealed.alg !== SEAL_ALG) throw new Error(`unknown key sealing algorithm ${JSON.stringify(sealed.alg)}`)
  const epkRaw = Buffer.from(sealed.epk, 'base64url')
  const epk = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: sealed.epk }, format: 'jwk' })
  const verifierPublic = createPublicKey(privateKey)
  const shared = diffieHellman({ privateKey, publicKey: epk })
  const wrap = wrappingKey(shared, epkRaw, rawPublic(verifierPublic), stream)
  const ct = Buffer.from(sealed.ct, 'base64url')
  if (ct.length !== 32 + 16) throw new Error('sealed key has the wrong length')
  const decipher = createDecipheriv('aes-256-gcm', wrap, Buffer.from(sealed.iv, 'base64url'))
  decipher.setAAD(Buffer.from(stream, 'utf8'))
  decipher.setAuthTag(ct.subarray(32))
  return Buffer.concat([decipher.update(ct.subarray(0, 32)), decipher.final()])
}
