// Next.js 16 request interception (the convention formerly named middleware.ts): transport A of the
// OAuth Proxy. Every /api/* request is decided by the shared policy and forwarded with fetch.
import { forwardWithFetch } from './lib/oauth-proxy/forward-with-fetch';

export const proxy = (request: Request): Promise<Response> => forwardWithFetch(request);

export const config = { matcher: ['/api/:path*'] };
