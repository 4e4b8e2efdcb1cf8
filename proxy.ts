// Next.js 16 request interception (the convention formerly named middleware.ts): transport A of the
// OAuth Proxy. Every /api/* request is decided by the shared policy and forwarded with fetch. With APPS
// (docs/contract.md §8) it also routes each app's /<base>/api/* and /<base>/oauth-agent/* (lib/apps). Health
// probes only get their X-Request-Id (docs/contract.md §9) and continue into Next.
import { NextResponse } from 'next/server';

const { routeAppRequest } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/apps/route-app-request');
const { REQUEST_ID_HEADER, requestIdFor } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/observability/request-id');

export async function proxy(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const decision = await routeAppRequest(request, url.pathname);
  const requestId = requestIdFor(request.headers.get(REQUEST_ID_HEADER));
  if (decision instanceof Response) {
    // The proxy's and the agent's answers carry their own id; a refusal made here gets one.
    if (!decision.headers.has(REQUEST_ID_HEADER)) decision.headers.set(REQUEST_ID_HEADER, requestId);
    return decision;
  }
  const headers = new Headers(request.headers);
  headers.set(REQUEST_ID_HEADER, requestId);
  const response = decision === undefined
    ? NextResponse.next({ request: { headers } })
    : NextResponse.rewrite(new URL(decision.rewrite + url.search, url), { request: { headers } });
  response.headers.set(REQUEST_ID_HEADER, requestId);
  return response;
}

// /api/*, an app's /<base>/api/* and /<base>/oauth-agent/*, and the probes only. Static files and page
// loads never pass here, with or without APPS (measured under `next start`: proxy.ts on every asset
// doubled its CPU, on page loads ~5x), so under `next start` they carry no X-Request-Id (README
// "Operations"); the root OAuth Agent's route handlers set theirs themselves (lib/oauth-agent/agent-route.ts).
// An app's files live under /<dir>/ in public/, and next.config.js's fallback gives a path-based app's
// client routes its index.html (README "Several SPAs on one deployment").
export const config = { matcher: ['/api/:path*', '/:base+/api/:path*', '/:base+/oauth-agent/:path*', '/healthz', '/readyz'] };
