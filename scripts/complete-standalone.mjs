// Completes .next/standalone (output: 'standalone') so that it runs our Node server entry, not only
// Next's: Next traces the node_modules its own bundles need; this traces dist/server.mjs the same way
// (with the @vercel/nft copy that Next ships) and copies the packages it imports that Next's trace
// lacks (e.g. undici, openid-client). The Dockerfile's runtime stage then copies
// .next/standalone plus .next/static, public/, dist/ and next.config.js (README "Deploy").
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const standalone = join(root, '.next/standalone');
if (!existsSync(join(standalone, 'server.js'))) {
  console.error('[complete-standalone] .next/standalone is missing: run `next build` first (next.config.js sets output: standalone)');
  process.exit(1);
}

const { nodeFileTrace } = createRequire(import.meta.url)('next/dist/compiled/@vercel/nft');
// Next's routes import lib/'s built modules at run time (never bundled), so all of lib/dist is traced.
const libModules = readdirSync(join(root, 'lib/dist'), { recursive: true })
  .filter((f) => f.endsWith('.mjs')).map((f) => join(root, 'lib/dist', f));
const { fileList } = await nodeFileTrace([join(root, 'dist/server.mjs'), ...libModules], {
  base: root,
  // Next's own runtime is already in the standalone trace, with the files its server needs.
  ignore: (p) => /^node_modules\/(next|@next|react|react-dom|styled-jsx|@swc)\//.test(p),
});

// Our own lib/ is the package @next-token-handler/lib (a link to lib/ in the checkout): the image
// gets its built files as a real package, imported by Next's routes and dist/server.mjs alike.
const OWN_PACKAGE = 'node_modules/@next-token-handler/lib';
let copied = 0;
for (const file of fileList) {
  if (file === OWN_PACKAGE) continue;
  const inOwnPackage = file === 'lib/package.json' || file.startsWith('lib/dist/');
  if (!file.startsWith('node_modules/') && !inOwnPackage) continue;
  const target = join(standalone, inOwnPackage ? `${OWN_PACKAGE}/${file.slice('lib/'.length)}` : file);
  if (existsSync(target)) continue;
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(root, file), target, { dereference: true });
  copied++;
}
console.log(`[complete-standalone] added ${copied} traced file(s) of dist/server.mjs to .next/standalone/node_modules`);
