// The Node server entry (`npm start`): one HTTP server in front of Next's request handler.
// The OAuth Proxy's fast path mounts here, before Next (README "Two transports").
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { validateAtStartup } from '../lib/startup';
import { log } from '../lib/log';

const config = validateAtStartup();
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const app = next({ dev: false, dir: projectDir, port: config.port });
await app.prepare();
const handle = app.getRequestHandler();

const server = createServer((req, res) => {
  void handle(req, res);
});

server.listen(config.port, () => log('info', 'server_started', { port: config.port, transport: 'node' }));

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log('info', 'server_stopping', { signal });
  // Stop accepting, let in-flight requests finish, then exit; a stuck request cannot hold us forever.
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 25_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
