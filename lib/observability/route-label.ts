// The `route` label of metrics and spans (docs/contract.md §9): an agent endpoint name or a configured proxy
// route prefix, never the raw path, so a client cannot mint new label values (bounded cardinality).
import type { ApiRoute } from '../config';

const AGENT_ENDPOINTS: Readonly<Record<string, string>> = {
  'login/start': 'login_start',
  'login/end': 'login_end',
  session: 'session',
  userInfo: 'user_info',
  claims: 'claims',
  refresh: 'refresh',
  logout: 'logout',
  'backchannel-logout': 'backchannel_logout',
};
const AGENT_SEGMENT = '/oauth-agent/';

/** `login_start`, `session`, … for a path under /oauth-agent/ (any base path); `unknown` otherwise. */
export function agentEndpointName(pathname: string): string {
  const at = pathname.indexOf(AGENT_SEGMENT);
  return (at < 0 ? undefined : AGENT_ENDPOINTS[pathname.slice(at + AGENT_SEGMENT.length)]) ?? 'unknown';
}

/** The longest configured prefix the request target falls under (a label only: the policy decides), or `none`. */
export function proxyRouteLabel(target: string | undefined, routes: readonly ApiRoute[]): string {
  if (target === undefined) return 'none';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  for (const { prefix } of routes) { // longest first (lib/config.ts)
    if (path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */)) return prefix;
  }
  return 'none';
}
