// `npm run test:unit`: the pure unit tests and the in-process agent tier (lib/**, server unit tests,
// scripts/*.test.ts). No spawned servers, no build; the e2e suites run in `npm test` (vitest.config.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The app's route files import '@/lib/...' (tsconfig paths); the tier calls those route exports.
  resolve: { alias: [{ find: /^@\//, replacement: fileURLToPath(new URL('./', import.meta.url)) }] },
  test: {
    include: ['lib/**/*.test.ts', 'server/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 15_000,
    // Worker threads: no process per file (about 20 % less CPU than forks, measured); each file still gets fresh modules and env.
    pool: 'threads',
  },
});
