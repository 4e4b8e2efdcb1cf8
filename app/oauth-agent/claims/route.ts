// GET /oauth-agent/claims: same-origin request, session.
const { agentRoute } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/agent-route');
const { getClaims } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/user-info');

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ GET: getClaims }, { session: true });
