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

// Every path but Next's own assets: host-based apps serve their files from public/<id>/ (known only at
// run time). Without APPS everything but /api/* returns at once.
export const config = { matcher: ['/((?!_next/).*)'] };
