// Readiness (`GET /readyz`): ready when the identity server's discovery document loads and names
// the configured issuer, i.e. a login could start now. Probes must not amplify: a
// result is cached (a success 5 s, a failure 1 s), concurrent probes share one discovery request,
// and only a change of state is logged, not every probe.
import { log } from './log';
import { describeCause } from './errors';
import type { ParMode } from './config';
import { meetsPushedAuthorizationPolicy } from './oidc/pushed-authorization';
import { nowMs } from './clock';

export interface ReadinessOptions {
  issuer: string;
  /** OIDC_PAR: `always` needs a PAR endpoint in the metadata (docs/contract.md §10). */
  par?: ParMode;
  fetch?: typeof fetch;
  timeoutMs?: number;
  cacheMs?: number;
  failureCacheMs?: number;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 2_000;
const DEFAULT_CACHE_MS = 5_000;
const DEFAULT_FAILURE_CACHE_MS = 1_000;

interface IssuerState {
  ready: boolean | undefined; // undefined: never checked
  until: number;
  inFlight?: Promise<boolean>;
}

// Per process (lib/ loads once per process), per issuer.
const states = new Map<string, IssuerState>();

/** OpenID Connect Discovery §4: the metadata lives at `<issuer>/.well-known/openid-configuration`. */
export function discoveryUrl(issuer: string): string {
  const url = new URL(issuer);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/.well-known/openid-configuration`;
  return url.href;
}

/** True when discovery answers with `issuer` equal to the configured one (OIDC Discovery §4.3). */
export function checkIdentityServerReady(opts: ReadinessOptions): Promise<boolean> {
  const now = opts.now ?? nowMs;
  let state = states.get(opts.issuer);
  if (!state) states.set(opts.issuer, (state = { ready: undefined, until: 0 }));
  if (state.ready !== undefined && state.until > now()) return Promise.resolve(state.ready);
  if (state.inFlight) return state.inFlight;
  const s = state;
  s.inFlight = fetchDiscovery(opts).then((failure) => {
    const ready = failure === undefined;
    if (!ready && s.ready !== false) log('warn', 'readiness_failed', { ...failure, reason: failure.reason });
    if (ready && s.ready === false) log('info', 'readiness_recovered', {});
    s.ready = ready;
    s.until = now() + (ready ? opts.cacheMs ?? DEFAULT_CACHE_MS : opts.failureCacheMs ?? DEFAULT_FAILURE_CACHE_MS);
    s.inFlight = undefined;
    return ready;
  });
  return s.inFlight;
}

/** undefined when ready, else the fields of the `readiness_failed` line. */
async function fetchDiscovery(opts: ReadinessOptions): Promise<({ reason: string } & Record<string, unknown>) | undefined> {
  try {
    const res = await (opts.fetch ?? fetch)(discoveryUrl(opts.issuer), {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    if (!res.ok) return { reason: 'discovery_status', upstreamStatus: res.status };
    const metadata = (await res.json()) as { issuer?: unknown; pushed_authorization_request_endpoint?: unknown };
    // OIDC Discovery §4.3: a mismatched issuer means we talk to the wrong server (or a mix-up attacker).
    if (metadata.issuer !== opts.issuer) return { reason: 'issuer_mismatch' };
    // RFC 9126 §5 / docs/contract.md §10: OIDC_PAR=always cannot log anyone in without a PAR endpoint.
    if (!meetsPushedAuthorizationPolicy(metadata, opts.par ?? 'auto')) return { reason: 'no_pushed_authorization_endpoint' };
    return undefined;
  } catch (err) {
    return { reason: 'discovery_unreachable', ...describeCause(err) };
  }
}
