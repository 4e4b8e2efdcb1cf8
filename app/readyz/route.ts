// Readiness: 200 when the identity server's discovery document loads with the configured issuer,
// else 503, so a load balancer only sends users to an instance that can log them in.
import { getConfig } from '../../lib/config';
import { checkIdentityServerReady } from '../../lib/readiness';

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const ready = await checkIdentityServerReady({ issuer: getConfig().oidc.issuer, par: getConfig().oidc.par });
  return Response.json({ status: ready ? 'ready' : 'not_ready' }, { status: ready ? 200 : 503, headers: { 'cache-control': 'no-store' } });
}
