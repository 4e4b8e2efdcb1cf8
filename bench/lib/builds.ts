// Builds what the selected variants run, only when missing or older than their sources: the
// bench-only Next apps (each `next build` from its own directory, with the repository's
// node_modules) and the product (scripts/ensure-build.mjs: next build + dist/server.mjs).
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './variants';

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === '.next' || entry === 'node_modules') continue;
    max = Math.max(max, newest(join(path, entry)));
  }
  return max;
}

export function ensureBenchAppBuilt(app: string, log: (line: string) => void): void {
  const dir = resolve(ROOT, 'bench/apps', app);
  const stamp = join(dir, '.next/BUILD_ID');
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const changed = Math.max(newest(dir), newest(resolve(ROOT, 'bench/apps/shared-next-config.mjs')), newest(resolve(ROOT, 'package-lock.json')));
  if (built > changed) return;
  log(`building bench app ${app} ...`);
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
  });
}

export function ensureProductBuilt(): void {
  execFileSync(process.execPath, ['scripts/ensure-build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Bench-only Node servers (upstream, bare-hpm) compiled to plain ESM under bench/.build, so they run
 * on bare `node`: a TypeScript loader would add its own esbuild process to the measured tree.
 */
export async function compileBenchServer(entry: string): Promise<string> {
  const outfile = resolve(ROOT, 'bench/.build', entry.replace(/^bench\//, '').replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [resolve(ROOT, entry)], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', logLevel: 'warning',
  });
  return outfile;
}
