import swc from 'unplugin-swc'
import { packageTestConfig } from '../../vitest.package'

// Nest's dependency injection reads decorator metadata, which esbuild (vitest's default transform)
// does not emit; SWC does (docs.nestjs.com/recipes/swc#vitest).
export default packageTestConfig({}, { plugins: [swc.vite({ module: { type: 'es6' } })] })
