// POST /oauth-agent/login/start: trusted origin.
const { agentRoute } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/agent-route');
const { startLogin } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/start-login');

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ POST: startLogin }, {});
