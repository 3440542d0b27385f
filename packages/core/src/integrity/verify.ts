// The verifier lives in ../verify/ (the auditor's side); these names stay importable from here.
export {
  allowanceSeconds,
  type Finding,
  type FindingKind,
  type Severity,
  type StreamReport,
  type StreamStatus,
  type VerifyOptions,
  type VerifyReport,
} from '../verify/findings'
export { createVerifier, type Verifier, verifyLines, verifyStream, verifyText } from '../verify/verifier'
