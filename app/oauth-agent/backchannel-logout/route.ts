// POST /oauth-agent/backchannel-logout: called by the identity server (server-to-server), so no origin,
// CSRF or session guard; the logout token's signature is the authentication (docs/contract.md §7).
const { agentRoute } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/agent-route');
const { backchannelLogout } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/oauth-agent/backchannel-logout');

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ POST: backchannelLogout }, { serverToServer: true });
