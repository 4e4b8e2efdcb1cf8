// `npm run test:unit`: the pure unit tests and the in-process agent tier (lib/**, server unit tests,
// scripts/*.test.ts). No spawned servers, no build; the e2e suites run in `npm test` (vitest.config.ts).
import { defineConfig } from 'vitest/config';
import suites from './vitest.config';

export default defineConfig({
  // The same module resolution as the full run (lib/ from its source, '@/app/...' for the route files).
  resolve: suites.resolve,
  test: {
    include: ['lib/**/*.test.ts', 'server/**/*.test.ts', 'scripts/**/*.test.ts'],
    // lib/store's tests and server-side-tokens' start a real redis-server: they run with the e2e suites in `npm test`.
    exclude: ['node_modules/**', 'lib/store/**', 'lib/session/server-side-tokens.test.ts'],
    testTimeout: 15_000,
    // Worker threads: no process per file (about 20 % less CPU than forks, measured); each file still gets fresh modules and env.
    pool: 'threads',
  },
});
