// Next.js 16 request interception (the convention formerly named middleware.ts): transport A of the
// OAuth Proxy. Every /api/* request is decided by the shared policy and forwarded with fetch.
import { forwardWithFetch } from './lib/oauth-proxy/forward-with-fetch';
import { observeFetchProxy } from './lib/observability/fetch-proxy-observation';

// X-Request-Id, metrics and the server span around the forwarding (contract §9).
export const proxy = (request: Request): Promise<Response> => observeFetchProxy(request, (observation) => forwardWithFetch(request, { observation }));

export const config = { matcher: ['/api/:path*'] };
