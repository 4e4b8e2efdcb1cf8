// Builds lib/ (the server side: not lib/client) once into lib/dist/*.mjs, the run-time files of the
// internal package @next-token-handler/lib (lib/package.json). Next's bundles (serverExternalPackages
// in next.config.js) and dist/server.mjs (esbuild `packages: 'external'`) both import this package at
// run time, so Node loads each module of lib/ exactly once per process: module-level state (config,
// refresh coordinator, caches, store clients) is a plain singleton. Code splitting puts every source
// module in exactly one output file, shared by all the entry points that use it.
import { rmSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const lib = join(root, 'lib');

/** Every module of lib/ but the browser client, the tests and the build output. */
function entryPoints(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const rel = relative(lib, path);
    // lib/testing is test support (the scripted identity server): never part of the run-time package.
    if (entry.isDirectory()) return rel === 'client' || rel === 'dist' || rel === 'testing' ? [] : entryPoints(path);
    if (/\.test\.ts$|\.d\.m?ts$/.test(entry.name)) return [];
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

rmSync(join(lib, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: entryPoints(lib),
  outdir: join(lib, 'dist'),
  outbase: lib,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
