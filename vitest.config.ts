import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // In tests, server/ and app/ reach lib/ through its source (no build needed), as the same modules
  // the tests import by relative path: one instance, as at run time (lib/package.json). The app's
  // route files are imported by the in-process tier as '@/app/...'.
  resolve: {
    alias: [
      { find: /^@next-token-handler\/lib\/(.*)$/, replacement: fileURLToPath(new URL('./lib/$1', import.meta.url)) },
      { find: /^@\//, replacement: fileURLToPath(new URL('./', import.meta.url)) },
    ],
  },
  test: {
    include: ['lib/**/*.test.ts', 'server/**/*.test.ts', 'e2e/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['e2e/browser/**', 'node_modules/**', 'bench/apps/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: API-level files start real servers; two at a time keeps them from starving.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'reports/vitest.json' },
  },
});
