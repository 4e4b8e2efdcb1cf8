// POST /oauth-agent/login/end: trusted origin.
const { agentRoute } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/agent-route');
const { endLogin } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/end-login');

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ POST: endLogin }, {});
