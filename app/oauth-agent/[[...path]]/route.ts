// /oauth-agent itself and any other /oauth-agent/* path: 404 not_found JSON on every method (docs/contract.md §2).
const { agentNotFound } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/agent-route');

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentNotFound();
