// Builds (client library + next build + server bundle) when the build is missing or older than any source file,
// so that `npm test` works straight after `npm install` and never tests a stale build.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['app', 'lib', 'server', 'public', 'proxy.ts', 'instrumentation.ts', 'next.config.js', 'package.json', 'scripts/build-client.mjs', 'tsconfig.client.json'];
// Every build output: the Next build, the Node server bundle and the client library (lib/client).
const OUTPUTS = ['lib/dist', '.next/BUILD_ID', 'dist/server.mjs', 'dist/client/token-handler-client.js', 'public/assets/token-handler-client.js'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    const child = join(path, entry);
    if (entry === 'node_modules' || entry.endsWith('.test.ts') || OUTPUTS.includes(child)) continue;
    max = Math.max(max, newest(child));
  }
  return max;
}

const built = Math.min(...OUTPUTS.map((p) => (existsSync(p) ? statSync(p).mtimeMs : 0)));
const changed = Math.max(...SOURCES.map(newest));
if (built === 0 || changed > built) {
  console.log('[ensure-build] building (sources changed since the last build)');
  execSync('npm run build', { stdio: 'inherit' });
} else {
  console.log('[ensure-build] build is up to date');
}
