// Readiness: 200 when the identity server's discovery document loads with the configured issuer,
// else 503, so a load balancer only sends users to an instance that can log them in.
const { getConfig } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/config');
const { checkIdentityServerReady } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/readiness');

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  // With APPS (contract §8): ready when every app's identity server is.
  const config = getConfig();
  const issuers = [...new Set((config.apps ?? [config]).map((c: { oidc: { issuer: string } }) => c.oidc.issuer))];
  const ready = (await Promise.all(issuers.map((issuer) => checkIdentityServerReady({ issuer })))).every(Boolean);
  return Response.json({ status: ready ? 'ready' : 'not_ready' }, { status: ready ? 200 : 503, headers: { 'cache-control': 'no-store' } });
}
