// GET /oauth-agent/session: same-origin request.
const { agentRoute } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/agent-route');
const { getSession } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/session-status');

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ GET: getSession }, {});
