// Next.js 16 request interception (the convention formerly named middleware.ts): transport A of the
// OAuth Proxy. Every /api/* request is decided by the shared policy and forwarded with fetch.
const { forwardWithFetch } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-proxy/forward-with-fetch');

export const proxy = (request: Request): Promise<Response> => forwardWithFetch(request);

export const config = { matcher: ['/api/:path*'] };
