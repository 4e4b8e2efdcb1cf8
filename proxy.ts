// Next.js 16 request interception (the convention formerly named middleware.ts): transport A of the
// OAuth Proxy. Every /api/* request is decided by the shared policy and forwarded with fetch; static
// files and health probes only get their X-Request-Id (docs/contract.md §9: on every response) and continue
// into Next.
import { NextResponse } from 'next/server';
const { forwardWithFetch } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-proxy/forward-with-fetch');
const { observeFetchProxy } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/observability/fetch-proxy-observation');
const { REQUEST_ID_HEADER, requestIdFor } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/observability/request-id');

const API_PATH = /^\/api(?:\/|$)/;

/**
 * Whether the request is the OAuth Proxy's: at least every path the former `/api/:path*` matcher
 * caught, which Next matches decoded (`/%61pi/x`, `/api%2Fx`). A superset is safe: the policy
 * refuses what it must (an encoded prefix, an encoded slash) with the contract's 400.
 */
function isApiRequest(pathname: string): boolean {
  if (API_PATH.test(pathname)) return true;
  if (!pathname.includes('%')) return false;
  try { return API_PATH.test(decodeURIComponent(pathname)); } catch { return false; }
}

export function proxy(request: Request): Promise<Response> | Response {
  if (isApiRequest(new URL(request.url).pathname)) {
    return observeFetchProxy(request, (observation) => forwardWithFetch(request, { observation }));
  }
  const requestId = requestIdFor(request.headers.get(REQUEST_ID_HEADER));
  const headers = new Headers(request.headers);
  headers.set(REQUEST_ID_HEADER, requestId);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set(REQUEST_ID_HEADER, requestId);
  return response;
}

// Every path but the OAuth Agent's, whose route handlers set the id themselves (lib/oauth-agent/agent-route.ts):
// agent requests, refreshes above all, do not pay for a pass through proxy.ts.
export const config = { matcher: ['/((?!oauth-agent/|oauth-agent$).*)'] };
