// Readiness (`GET /readyz`): ready when the identity server's discovery document loads and names
// the configured issuer, i.e. a login could start now. A success is cached briefly so that probes
// from a load balancer do not turn into a stream of requests to the identity server.
import { log } from './log';
import { describeCause } from './errors';

export interface ReadinessOptions {
  issuer: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  cacheMs?: number;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_CACHE_MS = 5_000;

/** Per issuer, until when the last success stands (process-wide, a module-level singleton). */
const okUntil = new Map<string, number>();

/** OpenID Connect Discovery §4: the metadata lives at `<issuer>/.well-known/openid-configuration`. */
export function discoveryUrl(issuer: string): string {
  const url = new URL(issuer);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/.well-known/openid-configuration`;
  return url.href;
}

/** True when discovery answers with `issuer` equal to the configured one (OIDC Discovery §4.3). */
export async function checkIdentityServerReady(opts: ReadinessOptions): Promise<boolean> {
  const now = opts.now ?? Date.now;
  if ((okUntil.get(opts.issuer) ?? 0) > now()) return true;
  try {
    const res = await (opts.fetch ?? fetch)(discoveryUrl(opts.issuer), {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    if (!res.ok) {
      log('warn', 'readiness_failed', { reason: 'discovery_status', upstreamStatus: res.status });
      return false;
    }
    const metadata = (await res.json()) as { issuer?: unknown };
    // OIDC Discovery §4.3: a mismatched issuer means we talk to the wrong server (or a mix-up attacker).
    if (metadata.issuer !== opts.issuer) {
      log('warn', 'readiness_failed', { reason: 'issuer_mismatch' });
      return false;
    }
    okUntil.set(opts.issuer, now() + (opts.cacheMs ?? DEFAULT_CACHE_MS));
    return true;
  } catch (err) {
    log('warn', 'readiness_failed', { reason: 'discovery_unreachable', ...describeCause(err) });
    return false;
  }
}
