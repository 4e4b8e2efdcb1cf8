// Readiness: 200 when the identity server's discovery document loads with the configured issuer,
// else 503, so a load balancer only sends users to an instance that can log them in. The session
// store is reported, never decisive (docs/contract.md §6): without it the BFF serves per process.
const { getConfig } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/config');
const { checkIdentityServerReady } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/readiness');
const { sessionStoreState } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/store/redis-client');

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  // With APPS (contract §8): ready when every app's identity server is.
  const config = getConfig();
  const checks = new Map<string, { issuer: string; par: typeof config.oidc.par }>();
  for (const c of (config.apps ?? [config]) as (typeof config)[]) checks.set(`${c.oidc.issuer} ${c.oidc.par}`, { issuer: c.oidc.issuer, par: c.oidc.par });
  const [results, store] = await Promise.all([
    Promise.all([...checks.values()].map((check) => checkIdentityServerReady(check))),
    sessionStoreState(config),
  ]);
  const ready = results.every(Boolean);
  return Response.json(
    { status: ready ? 'ready' : 'not_ready', store },
    { status: ready ? 200 : 503, headers: { 'cache-control': 'no-store' } },
  );
}
