// proxy.ts's routing with APPS (contract §8), on both transports (the Node entry hands everything but
// its /api/* fast path to Next, so proxy.ts runs there too): each request goes to its app's OAuth
// Proxy, OAuth Agent or static files. Without APPS only /api/* is the proxy's, exactly as before.
import { getConfig } from '../config';
import { ThError, toErrorResponse } from '../errors';
import { dispatchAgentRequest } from '../oauth-agent/agent-endpoints';
import { forwardWithFetch } from '../oauth-proxy/forward-with-fetch';
import { areaOf, pathInApp, selectApp, staticPathFor } from './select-app';

/** A Response to send, a path under public/ to rewrite to, or undefined: Next goes on as usual. */
export type RouteDecision = Response | { rewrite: string } | undefined;

const isApi = (path: string) => path === '/api' || path.startsWith('/api/');
// Served by the deployment itself on every host, never by an app.
const isDeploymentPath = (path: string) => path === '/healthz' || path === '/readyz' || path.startsWith('/_next/');

export async function routeAppRequest(request: Request, path: string): Promise<RouteDecision> {
  const config = getConfig();
  if (!config.apps) return isApi(path) ? forwardWithFetch(request, { config }) : undefined;
  if (isDeploymentPath(path)) return undefined;
  const app = selectApp(config, request.headers.get('host'), path);
  if (!app) {
    // Fail closed: an /api or /oauth-agent path that no app owns is never served by a default.
    return areaOf(path) === 'static' ? undefined : toErrorResponse(new ThError('not_found', 'No application is served at this address'));
  }
  const inside = pathInApp(app, path);
  switch (areaOf(inside)) {
    case 'api':
      return forwardWithFetch(request, { config: app });
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
