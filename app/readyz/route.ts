// Readiness: 200 when the identity server's discovery document loads with the configured issuer,
// else 503, so a load balancer only sends users to an instance that can log them in. The session
// store is reported, never decisive (docs/contract.md §6): without it the BFF serves per process.
const { getConfig } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/config');
const { checkIdentityServerReady } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/readiness');
const { sessionStoreState } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/store/redis-client');

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const config = getConfig();
  const [ready, store] = await Promise.all([
    checkIdentityServerReady({ issuer: config.oidc.issuer, par: config.oidc.par }),
    sessionStoreState(config),
  ]);
  return Response.json(
    { status: ready ? 'ready' : 'not_ready', store },
    { status: ready ? 200 : 503, headers: { 'cache-control': 'no-store' } },
  );
}
