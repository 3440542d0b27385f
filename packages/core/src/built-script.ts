/**
 * Where a worker thread's built script is: next to the running bundle (dist/), or in the package's
 * dist/ when the code runs from src (tests). Undefined when there is none (not built): callers then
 * do the work on their own thread.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export function builtScript(name: string): string | undefined {
  let here: string
  try {
    // The ESM build has import.meta.url; the CommonJS build (where bundlers leave import.meta empty) has __filename.
    const url = typeof import.meta === 'object' ? import.meta.url : undefined
    here = dirname(url ? fileURLToPath(url) : __filename)
  } catch {
    return undefined
  }
  for (const candidate of [join(here, name), join(here, '..', 'dist', name)]) {
    if (existsSync(candidate)) return candidate
  }
  return undefined
}
