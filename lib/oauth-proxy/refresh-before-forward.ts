// Transparent refresh in the OAuth Proxy (docs/contract.md §3, README "Refresh model"): when the plan says the
// access token has expired or is inside the refresh margin, the session is refreshed through the one
// race-free path shared with POST /oauth-agent/refresh, and the request goes upstream with the new
// token. Framework-free: both transports call it between planForward() and forwarding.
import type { Config } from '../config';
import { CookieJar } from '../cookies/cookie-jar';
import { nowSeconds, type Session, type SessionCookies } from '../cookies/session-cookies';
import { describeCause, ThError } from '../errors';
import { log } from '../log';
import { refreshSessionTokens, type RefreshDependencies } from '../session/refresh-session-tokens';
import { loadStoredTokens, placeSessionTokens } from '../session/server-side-tokens';
import { proxySessionCookies, type ForwardPlan } from './plan-forward';
import type { RequestHeaders } from './request-headers';
import { withUpstreamAuthorization } from './upstream-authorization';

export interface RefreshedPlan {
  /** The plan to forward: the new Bearer when a refresh happened, the original plan otherwise. */
  plan: ForwardPlan;
  /** Set-Cookie lines for the browser's response (empty when the cookies did not change). */
  setCookies: string[];
}

export interface RefreshBeforeForwardOptions {
  cookies?: SessionCookies;
  deps?: RefreshDependencies;
  now?: number;
}

/** Whether a plan may be forwarded as it is: no refresh due and no stored tokens to load first. */
export const isReadyToForward = (plan: ForwardPlan): boolean => !plan.needsRefresh && !plan.tokensInStore;

/**
 * A big session's tokens loaded from the store (docs/contract.md §7 "Big tokens") into the plan, and
 * its credential made. Throws ThError 'session_expired' (clearing) when they are gone, 'server_error'
 * while the store is unreachable.
 */
async function withStoredTokensLoaded(plan: ForwardPlan, config: Config, clearing: () => string[]): Promise<ForwardPlan> {
  const { session } = plan;
  if (!plan.tokensInStore || !session.stored) return plan;
  const tokens = await loadStoredTokens(session.stored, config, session, clearing);
  const loaded = { ...session, ...tokens };
  return { ...plan, session: loaded, headers: withUpstreamAuthorization(plan.headers, loaded, plan), tokensInStore: false };
}

/**
 * Loads a big session's stored tokens first (when the plan says so). Then:
 * throws ThError 'session_expired' (with Set-Cookie lines clearing every session cookie) when the
 * refresh token is rejected, 'unauthorized_request' (also clearing) when the refresh-token or ID-token
 * cookie is unreadable, and the identity server's failure ('authorization_server_error', ...) when the
 * access token has expired and could not be renewed. Nothing has been forwarded when it throws.
 */
export async function refreshBeforeForward(
  plan: ForwardPlan, requestHeaders: RequestHeaders, config: Config, opts: RefreshBeforeForwardOptions = {},
): Promise<RefreshedPlan> {
  if (isReadyToForward(plan)) return { plan, setCookies: [] };
  const cookies = opts.cookies ?? proxySessionCookies(config);
  const jar = new CookieJar(requestHeaders.get('cookie'));
  const clearing = () => cookies.clear(jar).map((line) => ['set-cookie', line] as const);
  plan = await withStoredTokensLoaded(plan, config, () => cookies.clear(jar));
  if (!plan.needsRefresh) return { plan, setCookies: [] };
  const now = opts.now ?? nowSeconds();
  const { session: current } = plan;
  const stillValid = current.accessTokenExpiresAt > now;

  // The refresh-token cookie is opened only here, never on the per-request fast path; a stored
  // session's refresh and ID tokens came from the store with its access token.
  let refreshToken: string | undefined;
  let idToken: string | undefined;
  if (current.stored) {
    ({ refreshToken, idToken } = current);
  } else {
    const rt = cookies.open(jar, 'rt', current.sid);
    const id = cookies.open(jar, 'id', current.sid);
    if (rt.status === 'invalid' || id.status === 'invalid') {
      throw new ThError('unauthorized_request', 'The session cookies are invalid', { headers: clearing() });
    }
    refreshToken = rt.status === 'ok' ? rt.value.v : undefined;
    idToken = id.status === 'ok' ? id.value.v : undefined;
  }
  // Nothing to refresh with (the identity server issued no refresh token): a token that works is used.
  if (refreshToken === undefined && stillValid) return { plan: { ...plan, needsRefresh: false }, setCookies: [] };

  const session: Session = {
    sid: current.sid, csrf: current.csrf, expiresAt: current.expiresAt,
    accessToken: current.accessToken, accessTokenExpiresAt: current.accessTokenExpiresAt,
    accessTokenIssuedAt: current.accessTokenIssuedAt,
    // Kept in the rewritten csrf cookie, so back-channel logout still finds the session (docs/contract.md §7).
    idpSid: current.idpSid, sub: current.sub, iss: current.iss, createdAt: current.createdAt,
    refreshToken,
    idToken,
    // RFC 9449 §5: the refresh is proven with the session's key and the new token stays bound to it.
    ...(current.dpopKey !== undefined ? { dpopKey: current.dpopKey } : {}),
  };
  let refreshed: Session;
  try {
    // The app's own client redeems the refresh token (contract §8), unless a test injects another.
    refreshed = await placeSessionTokens(await refreshSessionTokens(session, { config, ...opts.deps }), cookies, config, current.stored, now);
  } catch (err) {
    // Contract §2: an invalid refresh token ends the session; every session cookie is cleared.
    if (err instanceof ThError && err.code === 'session_expired') {
      throw new ThError('session_expired', err.message, { cause: err.cause ?? err, headers: clearing() });
    }
    // The identity server failed. Inside the margin the old token still works: a request that can
    // succeed is not failed (the next request tries the refresh again). Once expired, the error stands
    // and the cookies stay as they are, so the session survives the outage.
    if (stillValid) {
      log('warn', 'token_refresh_deferred', { sid: current.sid, expiresIn: current.accessTokenExpiresAt - now, ...describeCause(err) });
      return { plan: { ...plan, needsRefresh: false }, setCookies: [] };
    }
    throw err;
  }
  return {
    plan: {
      ...plan,
      // RFC 6750 §2.1: exactly one credential, now the refreshed one (and a new proof for it, RFC 9449 §4.2 ath).
      headers: withUpstreamAuthorization(plan.headers, refreshed, plan),
      session: {
        sid: refreshed.sid, csrf: refreshed.csrf, expiresAt: refreshed.expiresAt,
        accessToken: refreshed.accessToken, accessTokenExpiresAt: refreshed.accessTokenExpiresAt,
        accessTokenIssuedAt: refreshed.accessTokenIssuedAt,
        idpSid: refreshed.idpSid, sub: refreshed.sub, iss: refreshed.iss, createdAt: refreshed.createdAt,
        ...(refreshed.dpopKey !== undefined ? { dpopKey: refreshed.dpopKey } : {}),
        ...(refreshed.stored ? { stored: refreshed.stored, refreshToken: refreshed.refreshToken, idToken: refreshed.idToken } : {}),
      },
      needsRefresh: false,
      tokensInStore: false,
    },
    setCookies: cookies.write(jar, refreshed, now),
  };
}

/**
 * RFC 6750 §3.1: a 401 whose challenge says `invalid_token` means the token is expired, revoked or
 * malformed, so a refreshed one may succeed (e.g. the API's clock runs ahead of ours). Any other
 * 401 (no challenge, `insufficient_scope`, an app-level refusal) is the API's answer and passes as is:
 * refreshing on those would spend a grant per call.
 */
export function upstreamRejectedToken(status: number, wwwAuthenticate: string | string[] | null | undefined): boolean {
  if (status !== 401 || !wwwAuthenticate) return false;
  const value = Array.isArray(wwwAuthenticate) ? wwwAuthenticate.join(', ') : wwwAuthenticate;
  // RFC 9449 §7.1: a DPoP-bound token is refused with the DPoP scheme's challenge.
  return /\b(?:Bearer|DPoP)\b/i.test(value) && /\berror\s*=\s*"?invalid_token"?/i.test(value);
}

/**
 * Sent twice only when safe: an idempotent method without a body (RFC 9110 §9.2.2; a body may be a
 * stream already consumed), and only if this request did not refresh already (then the 401 stands).
 */
export function mayRetryAfterRefresh(method: string, hasBody: boolean, refreshedAlready: boolean): boolean {
  const m = method.toUpperCase();
  return (m === 'GET' || m === 'HEAD') && !hasBody && !refreshedAlready;
}

/**
 * After an upstream rejected a token the proxy believed valid: one refresh through the same
 * single-flight path. No Set-Cookie lines means nothing changed (identity server down while the
 * token is valid by the clock, or no refresh token): the API's own 401 is then returned.
 */
export function refreshAfterRejection(
  plan: ForwardPlan, requestHeaders: RequestHeaders, config: Config, opts: RefreshBeforeForwardOptions = {},
): Promise<RefreshedPlan> {
  log('info', 'upstream_rejected_token', { sid: plan.session.sid, route: plan.route.prefix });
  return refreshBeforeForward({ ...plan, needsRefresh: true }, requestHeaders, config, opts);
}
