// Container entry: runs the Node server entry (dist/server.mjs, next to this file in the image) on
// Next's standalone output. Standalone node_modules lack the modules that load next.config.js
// (webpack hooks), so, like the standalone server.js Next generates, we hand Next the configuration
// it serialised at build time (.next/required-server-files.json) instead of reading next.config.js.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const manifest = resolve(import.meta.dirname, '../.next/required-server-files.json');
const { config } = JSON.parse(readFileSync(manifest, 'utf8'));
process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(config);

await import('./server.mjs');
