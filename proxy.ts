// Next.js 16 request interception (the convention formerly named middleware.ts): transport A of the
// OAuth Proxy. Every /api/* request is decided by the shared policy and forwarded with fetch. With APPS
// (contract §8) it also routes each app's /<base>/oauth-agent/* and static files (lib/apps).
import { NextResponse } from 'next/server';

const { routeAppRequest } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/apps/route-app-request');

export async function proxy(request: Request): Promise<Response | undefined> {
  const url = new URL(request.url);
  const decision = await routeAppRequest(request, url.pathname);
  if (decision === undefined || decision instanceof Response) return decision;
  return NextResponse.rewrite(new URL(decision.rewrite + url.search, url));
}

// /api/* and an app's /<base>/api/* and /<base>/oauth-agent/* only. Static files and page loads never
// pass here, with or without APPS (measured under `next start`: proxy.ts on every asset doubled its CPU,
// on page loads ~5x): an app's files live under /<dir>/ in public/, and next.config.js's fallback gives a
// path-based app's client routes its index.html (README "Several SPAs on one deployment").
export const config = { matcher: ['/api/:path*', '/:base+/api/:path*', '/:base+/oauth-agent/:path*'] };
