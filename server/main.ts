// The Node server entry (`npm start`): one HTTP server in front of Next's request handler.
// /api/* and its WebSocket upgrades are served first by the OAuth Proxy's Node transport
// (server/api-proxy.ts, README "Two transports"); everything else goes to Next.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { validateAtStartup } from '@next-token-handler/lib/startup';
import { log } from '@next-token-handler/lib/log';
import { assignRequestId, observeProxyRequest } from '@next-token-handler/lib/observability/node-proxy-observation';
import { runInRequestContext } from '@next-token-handler/lib/observability/request-context';
import { startObservability, stopObservability } from '@next-token-handler/lib/observability/start-observability';
import { securityHeadersFor } from '@next-token-handler/lib/security/security-headers';
import { ApiProxy, isApiPath } from './api-proxy';
import { selectAppApi, selectAppArea, staticTargetFor } from './select-app-api';
import { isUnsupportedMethodOnStatic, refuseMethodOnStatic } from './refuse-method-on-static';
import { isForeignRequestTarget, refuseRequestTarget } from './refuse-foreign-target';
import { answerClientError, refuseConnect } from './refuse-unforwarded-method';
import { normaliseApiTarget } from '@next-token-handler/lib/oauth-proxy/api-path';

const config = validateAtStartup({ transport: 'node' });
await startObservability(config); // docs/contract.md §9: metrics listener (METRICS_PORT) and tracing, before Next starts
// Per request from the run-time PUBLIC_ORIGIN (HSTS only on https, RFC 6797 §7.2), so one image
// serves any origin; also on /api/* and our own answers, which never pass through Next's headers().
const securityHeaders = securityHeadersFor(config.publicOrigin);
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Next attaches its own 'upgrade' listener to the server it is given (or finds on the first request)
// and ends every upgrade it does not route itself, /api/* WebSockets included. It gets a relay that
// only ever sees the upgrades that are not ours.
const nextUpgrades = new EventEmitter();
const app = next({ dev: false, dir: projectDir, port: config.port, httpServer: nextUpgrades as unknown as Server });
await app.prepare();
const handle = app.getRequestHandler();
const apiProxy = new ApiProxy(config);

// 64 KiB of headers: session cookies of large tokens are chunked across several 4 KB cookies.
// Beyond it Node answers 431 itself.
/**
 * Whether the request is for the OAuth Proxy. Contract §3: `/x/../api/y` is the API request
 * `/api/y` (Next would normalise it and hand it to proxy.ts in-process, without the fast path's
 * X-Forwarded-For and streaming), so its target is normalised here and it takes the same path.
 */
function routeToApi(req: IncomingMessage): boolean {
  if (isApiPath(req.url)) return true;
  const normalised = normaliseApiTarget(req.url!, isApiPath);
  if (normalised === undefined) return false;
  req.url = normalised;
  return true;
}

const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
  for (const [name, value] of securityHeaders) res.setHeader(name, value);
  const requestId = assignRequestId(req, res); // [observability] X-Request-Id on every response, forwarded upstream
  if (isForeignRequestTarget(req.url)) refuseRequestTarget(req, res);
  else if (config.apps) routeApp(req, res, requestId);
  else if (routeToApi(req)) runInRequestContext(observeProxyRequest(req, res, config.apiRoutes, requestId), () => apiProxy.handle(req, res)); // [observability]
  else if (isUnsupportedMethodOnStatic(req.method, req.url)) refuseMethodOnStatic(req, res);
  else void handle(req, res);
});
server.on('upgrade', (req, socket, head) => {
  if (isForeignRequestTarget(req.url)) socket.destroy();
  else if (config.apps) {
    const app = selectAppApi(config, req);
    if (app) apiProxy.upgrade(req, socket, head, app); else if (!nextUpgrades.emit('upgrade', req, socket, head)) socket.destroy();
  } else if (routeToApi(req)) apiProxy.upgrade(req, socket, head);
  else if (!nextUpgrades.emit('upgrade', req, socket, head)) socket.destroy();
});
server.on('connect', (_req, socket) => refuseConnect(socket));
server.on('clientError', answerClientError);

// With APPS (contract §8): an app's /api/* takes the fast path with its own configuration; its agent
// goes to Next, where proxy.ts routes it (lib/apps/route-app-request.ts); its static files are
// rewritten to its directory under public/ (index.html for its client routes) and served by Next.
function routeApp(req: IncomingMessage, res: ServerResponse, requestId: string): void {
  const selected = selectAppArea(config, req);
  if (selected?.area === 'api') {
    const app = selected.app;
    runInRequestContext(observeProxyRequest(req, res, app.apiRoutes, requestId), () => apiProxy.handle(req, res, app)); // [observability]
    return;
  }
  if (selected?.area !== 'agent' && isUnsupportedMethodOnStatic(req.method, req.url)) { refuseMethodOnStatic(req, res); return; }
  if (selected?.area === 'static') req.url = staticTargetFor(selected.app, req.url ?? '/');
  void handle(req, res);
}

server.listen(config.port, () => log('info', 'server_started', { port: config.port, transport: 'node' }));

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log('info', 'server_stopping', { signal });
  // Stop accepting, let in-flight requests finish, then exit; a stuck request cannot hold us forever.
  server.close(() => { void stopObservability().finally(() => process.exit(0)); }); // [observability] queued spans first
  server.closeIdleConnections();
  apiProxy.close();
  setTimeout(() => process.exit(0), 25_000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
