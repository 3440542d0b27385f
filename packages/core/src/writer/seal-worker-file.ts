import { statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'

/**
 * The sealing thread's script, `seal-worker.cjs`, is looked for next to the module that starts it
 * (dist/ of the installed package). A bundle (esbuild, webpack) moves that module into the app's
 * own file, where the script is not: `integrity.sealWorker` / BOUNDARY_AUDIT_SEAL_WORKER say where it is.
 * A path that names no file fails createAuditLogger(), so a typo is not a silent fallback.
 */
export function resolveSealWorker(value: unknown, fromEnv: boolean): string | undefined {
  if (value === undefined || (fromEnv && value === '')) return undefined
  const name = fromEnv ? 'environment variable BOUNDARY_AUDIT_SEAL_WORKER' : 'integrity.sealWorker'
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`boundary-audit: ${name} must be the path of seal-worker.cjs; got ${String(value)}`)
  }
  const file = isAbsolute(value) ? value : resolve(value)
  let isFile = false
  try {
    isFile = statSync(file).isFile()
  } catch {
    // reported below
  }
  if (!isFile) {
    throw new TypeError(
      `boundary-audit: ${name} names no file (${file}); point it at seal-worker.cjs from @boundary-audit/core/dist (copied or bundled next to your app), or leave it unset`,
    )
  }
  return file
}

/** Said once when the sealing thread was wanted but could not start. */
export function sealThreadUnavailable(configured: string | undefined): string {
  return configured
    ? `the sealing thread could not start from ${configured}; records are sealed on the main thread (stats().sealing is 'inline')`
    : "the sealing thread's script (seal-worker.cjs) was not found next to this module, as happens in a bundled app (esbuild, webpack); records are sealed on the main thread (stats().sealing is 'inline'). Copy or bundle @boundary-audit/core/dist/seal-worker.cjs next to your bundle, or set integrity.sealWorker / BOUNDARY_AUDIT_SEAL_WORKER to its path; integrity.thread: 'inline' silences this"
}
