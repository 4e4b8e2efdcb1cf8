// Builds the browser client library twice from lib/client: the package entry
// `next-token-handler/client` (dist/client/*.js + .d.ts) and the static module the demo SPA
// imports (public/assets/token-handler-client.js, a build output, gitignored).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  entryPoints: ['lib/client/token-handler-client.ts'],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  logLevel: 'warning',
};

rmSync('dist/client', { recursive: true, force: true });
await Promise.all([
  build({ ...common, outfile: 'dist/client/token-handler-client.js', sourcemap: true }),
  build({ ...common, outfile: 'public/assets/token-handler-client.js', sourcemap: false }),
]);
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.client.json'], { stdio: 'inherit' });
