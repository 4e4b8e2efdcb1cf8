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

// /api/*, an app's /<base>/api/* and /<base>/oauth-agent/*, and page loads (paths without a file
// extension, which may be an app's client routes). Files with an extension never pass here: Next serves
// them from public/ directly (an app's files live under /<dir>/, README "Several SPAs on one
// deployment"), so static assets cost nothing extra, with or without APPS (measured: proxy.ts on every
// asset doubled their CPU under `next start`). Without APPS everything but /api/* returns at once.
export const config = {
  matcher: ['/api/:path*', '/:base+/api/:path*', '/:base+/oauth-agent/:path*', '/((?!_next/|api/|oauth-agent/)[^.]*)'],
};
