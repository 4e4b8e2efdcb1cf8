// Next.js 16 request interception (the convention formerly named middleware.ts): transport A of the
// OAuth Proxy. Every /api/* request is decided by the shared policy and forwarded with fetch; every
// other request only gets its X-Request-Id (contract §9: on every response, and the same id in the
// agent's log lines) and continues into Next.
import { NextResponse } from 'next/server';
import { forwardWithFetch } from './lib/oauth-proxy/forward-with-fetch';
import { observeFetchProxy } from './lib/observability/fetch-proxy-observation';
import { REQUEST_ID_HEADER, requestIdFor } from './lib/observability/request-id';

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
  headers.set(REQUEST_ID_HEADER, requestId); // the agent's route handlers log and answer with this one
  const response = NextResponse.next({ request: { headers } });
  response.headers.set(REQUEST_ID_HEADER, requestId);
  return response;
}

export const config = { matcher: ['/:path*'] };
