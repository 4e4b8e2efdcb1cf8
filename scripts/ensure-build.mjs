// Builds (next build + server bundle) when the build is missing or older than any source file,
// so that `npm test` works straight after `npm install` and never tests a stale build.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['app', 'lib', 'server', 'public', 'proxy.ts', 'instrumentation.ts', 'next.config.js', 'package.json'];
const STAMP = '.next/BUILD_ID';

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.endsWith('.test.ts')) continue;
    max = Math.max(max, newest(join(path, entry)));
  }
  return max;
}

const built = Math.min(existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0, existsSync('dist/server.mjs') ? statSync('dist/server.mjs').mtimeMs : 0);
const changed = Math.max(...SOURCES.map(newest));
if (built === 0 || changed > built) {
  console.log('[ensure-build] building (sources changed since the last build)');
  execSync('npm run build', { stdio: 'inherit' });
} else {
  console.log('[ensure-build] build is up to date');
}
