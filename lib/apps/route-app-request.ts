// proxy.ts's routing with APPS (contract §8), on both transports (the Node entry hands everything but
// its /api/* fast path to Next, so proxy.ts runs there too): each request goes to its app's OAuth
// Proxy, OAuth Agent or static files. Without APPS only /api/* is the proxy's, exactly as before.
import { getConfig, type Config } from '../config';
import { ThError, toErrorResponse } from '../errors';
import { dispatchAgentRequest } from '../oauth-agent/agent-endpoints';
import { observeFetchProxy } from '../observability/fetch-proxy-observation';
import { forwardWithFetch } from '../oauth-proxy/forward-with-fetch';
import { areaOf, pathInApp, selectApp, staticPathFor } from './select-app';

/** A Response to send, a path under public/ to rewrite to, or undefined: Next goes on as usual. */
export type RouteDecision = Response | { rewrite: string } | undefined;

const API_PATH = /^\/api(?:\/|$)/;

/**
 * Whether the request is the OAuth Proxy's: at least every path the `/api/:path*` matcher catches,
 * which Next matches decoded (`/%61pi/x`, `/api%2Fx`). A superset is safe: the policy refuses what it
 * must (an encoded prefix, an encoded slash) with the contract's 400.
 */
function isApi(path: string): boolean {
  if (API_PATH.test(path)) return true;
  if (!path.includes('%')) return false;
  try { return API_PATH.test(decodeURIComponent(path)); } catch { return false; }
}

/** One app's /api/* request, observed (X-Request-Id, metrics, span: contract §9) and forwarded with fetch. */
const forwardObserved = (request: Request, config: Config) =>
  observeFetchProxy(request, (observation) => forwardWithFetch(request, { config, observation }), config);
// Served by the deployment itself on every host, never by an app.
const isDeploymentPath = (path: string) => path === '/healthz' || path === '/readyz' || path.startsWith('/_next/');

export async function routeAppRequest(request: Request, path: string): Promise<RouteDecision> {
  const config = getConfig();
  if (!config.apps) return isApi(path) ? forwardObserved(request, config) : undefined;
  if (isDeploymentPath(path)) return undefined;
  const app = selectApp(config, request.headers.get('host'), path);
  if (!app) {
    // Fail closed: an /api or /oauth-agent path that no app owns is never served by a default.
    return areaOf(path) === 'static' ? undefined : toErrorResponse(new ThError('not_found', 'No application is served at this address'));
  }
  const inside = pathInApp(app, path);
  switch (areaOf(inside)) {
    case 'api':
      return forwardObserved(request, app);
    case 'agent':
      // At `/` the route files under app/oauth-agent/ answer (they select the app by Host themselves).
      if (app.app!.basePath === '/') return undefined;
      return dispatchAgentRequest(request, inside.slice('/oauth-agent/'.length));
    default: {
      const file = staticPathFor(app, inside);
      return file === path ? undefined : { rewrite: file };
    }
  }
}
