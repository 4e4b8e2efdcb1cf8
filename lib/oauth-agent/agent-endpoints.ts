// The OAuth Agent's endpoints as one table, for apps under a base path (contract §8): Next's route
// files answer /oauth-agent/*, while /<base>/oauth-agent/* is dispatched here by proxy.ts, on both
// transports, with the same handlers and guard policies as app/oauth-agent/**/route.ts.
import { ThError, toErrorResponse } from '../errors';
import { agentNotFound, agentRoute } from './agent-route';
import { backchannelLogout } from './backchannel-logout';
import { endLogin } from './end-login';
import { logout } from './logout';
import { refreshSession } from './refresh-session';
import { getSession } from './session-status';
import { startLogin } from './start-login';
import { getClaims, getUserInfo } from './user-info';

type RouteExports = ReturnType<typeof agentRoute>;

// Keep in step with app/oauth-agent/**/route.ts (agent-endpoints.test.ts compares them).
export const AGENT_ENDPOINTS: Readonly<Record<string, RouteExports>> = Object.freeze({
  'login/start': agentRoute({ POST: startLogin }, {}),
  'login/end': agentRoute({ POST: endLogin }, {}),
  session: agentRoute({ GET: getSession }, {}),
  userInfo: agentRoute({ GET: getUserInfo }, { session: true }),
  claims: agentRoute({ GET: getClaims }, { session: true }),
  refresh: agentRoute({ POST: refreshSession }, { csrf: true, session: true }),
  logout: agentRoute({ POST: logout }, { csrf: true, session: true, storedTokens: 'best-effort' }),
  'backchannel-logout': agentRoute({ POST: backchannelLogout }, { serverToServer: true }),
});

const NOT_FOUND = agentNotFound();

/**
 * Serves one agent request; `endpoint` is the path after `/oauth-agent/` (e.g. `login/start`). The
 * handlers select the app themselves from the request's Host and path.
 */
export function dispatchAgentRequest(request: Request, endpoint: string): Promise<Response> {
  const route = Object.hasOwn(AGENT_ENDPOINTS, endpoint) ? AGENT_ENDPOINTS[endpoint]! : NOT_FOUND;
  const method = request.method.toUpperCase() as keyof RouteExports;
  if (!Object.hasOwn(route, method)) {
    return Promise.resolve(toErrorResponse(new ThError('method_not_allowed', 'This method is not allowed on this endpoint')));
  }
  return route[method](request);
}
