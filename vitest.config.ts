import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The app's route files import '@/lib/...' (tsconfig paths); lib's in-process tier calls those route exports.
  resolve: { alias: [{ find: /^@\//, replacement: fileURLToPath(new URL('./', import.meta.url)) }] },
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
