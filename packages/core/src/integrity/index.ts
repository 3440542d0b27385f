// Integrity chain (sealing side) and verifier, used by the logger, the CLI and tests.

export { formatReport } from '../verify/format'
export { canonicalize, macInputOf, SHIPPER_OWNED } from './canonical'
export {
  type Chain,
  type ChainOptions,
  createChain,
  hmacSha256,
  type IntegrityFields,
  macOf,
  nextKey,
} from './chain'
export {
  generateVerifierKeyPair,
  keyId,
  loadVerifierPrivateKey,
  loadVerifierPublicKey,
  type SealedKey,
  sealKey,
  unsealKey,
  validateVerifierKey,
} from './keys'
export { ACTIONS as CHAIN_ACTIONS } from './records'
// The verifier (../verify/, re-exported by ./verify so that older imports keep working).
export * from './verify'
