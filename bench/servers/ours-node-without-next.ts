// Bench-only variant `ours-node-without-next`: the Node transport's /api/* path exactly as
// server/main.ts wires it (security headers, request-target check, ApiProxy), but with no Next
// request handler prepared in the process. Compared with `ours-node`, it isolates what loading Next
// into the same process costs the proxy's hot path (async hooks, a larger heap to collect). Not
// part of the product: /healthz is answered here only so the bench can see it is up.
import { createServer } from 'node:http';
import { validateAtStartup } from '@next-token-handler/lib/startup';
import { securityHeadersFor } from '@next-token-handler/lib/security/security-headers';
import { ApiProxy, isApiPath } from '../../server/api-proxy';
import { isForeignRequestTarget, refuseRequestTarget } from '../../server/refuse-foreign-target';

const config = validateAtStartup({ transport: 'node' });
const securityHeaders = securityHeadersFor(config.publicOrigin);
const apiProxy = new ApiProxy(config);

const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
  for (const [name, value] of securityHeaders) res.setHeader(name, value);
  if (isForeignRequestTarget(req.url)) refuseRequestTarget(req, res);
  else if (isApiPath(req.url)) apiProxy.handle(req, res);
  else if (req.url === '/healthz') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}'); }
  else { res.writeHead(404); res.end(); }
});
server.listen(config.port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
