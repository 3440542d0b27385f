import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import swc from 'unplugin-swc'
import { defineConfig } from 'vitest/config'

// The same tests against NestJS 11, installed on its own in test/nest11 (`npm run test:nest11`).
// Every `@nestjs/*` import of the package and the tests resolves there; Nest 11's own files then
// find their dependencies next to them, so no Nest 12 module is mixed in.
const nest11 = fileURLToPath(new URL('./test/nest11/node_modules/@nestjs/', import.meta.url))
if (!existsSync(`${nest11}core`)) {
  throw new Error('NestJS 11 is not installed: run `npm install --prefix packages/nestjs/test/nest11` first')
}
const packages = ['common', 'core', 'config', 'platform-express', 'platform-fastify', 'testing']

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    conditions: ['source'],
    alias: packages.map((name) => ({
      find: new RegExp(`^@nestjs/${name}$`),
      replacement: `${nest11}${name}`,
    })),
  },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: '@boundary-audit/nestjs (NestJS 11)',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
})
