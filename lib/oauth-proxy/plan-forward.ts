// The OAuth Proxy's policy, shared by both transports (docs/architecture.md "one policy"): from what the
// request says to either a forward plan or a contract error. Pure apart from the clock and the
// process-wide config/codec; no I/O, no framework.
import type { ApiRoute, Config } from '../config';
import { unauthorized } from '../errors';
import { CookieJar } from '../cookies/cookie-jar';
import { SessionCookies, nowSeconds, principalOf, storedTokensRefOf, type SessionPrincipal, type StoredTokensRef } from '../cookies/session-cookies';
import { assertNotRevoked } from '../revocation/revoked-session';
import { assertCsrf, assertTrustedOrigin, csrfHeaderName, isSafeMethod } from '../security/request-guards';
import { assertForwardedMethod, assertSafeApiPath, matchApiRoute, splitRequestTarget } from './api-path';
import { buildUpstreamHeaders, type RequestHeaders } from './request-headers';
import { upstreamAuthorization } from './upstream-authorization';

export interface ProxyRequest {
  method: string;
  /** The request-target as received: raw path and query, e.g. `/api/orders/1?x=%20y`. */
  target: string;
  headers: RequestHeaders;
  /** The peer's address, when the transport knows it (the Node transport does; proxy.ts does not). */
  clientAddress?: string;
  /** A WebSocket handshake (Node transport). */
  upgrade?: boolean;
}

export interface ProxySession extends SessionPrincipal {
  sid: string;
  /** The session's CSRF token (kept when the session's cookies are rewritten after a refresh). */
  csrf: string;
  /** The session's absolute end (SESSION_MAX_AGE_SECONDS after login), unix seconds. */
  expiresAt: number;
  accessToken: string;
  /** Unix seconds. */
  accessTokenExpiresAt: number;
  /** Unix seconds; absent in cookies written before it was recorded. */
  accessTokenIssuedAt?: number;
  /** Unix seconds; absent in cookies written before it was recorded. */
  createdAt?: number;
  /** The DPoP key the access token is bound to (RFC 9449), from the session's `dpop` cookie. */
  dpopKey?: string;
  /**
   * A big session's tokens are in the store (docs/contract.md §7 "Big tokens"): `accessToken` is empty
   * until refreshBeforeForward() loads them, and then the refresh and ID tokens come with it.
   */
  stored?: StoredTokensRef;
  refreshToken?: string;
  idToken?: string;
}

export interface ForwardPlan {
  kind: 'forward';
  /** Upper-case; the DPoP proof's `htm` (a proof made again after a refresh or a nonce needs it). */
  method: string;
  route: ApiRoute;
  /** Upstream base + the original remainder + the original query. */
  upstreamUrl: URL;
  /** Lower-case header record to send upstream (Host, one Bearer, X-Forwarded-*; nothing the drop-list names). */
  headers: Record<string, string>;
  session: ProxySession;
  /** Contract §3: refresh before forwarding (`refreshBeforeForward`, then the plan it returns is forwarded). */
  needsRefresh: boolean;
  /**
   * The session's tokens are in the store and not loaded yet: `headers` has no credential, and the plan
   * must go through refreshBeforeForward() (which loads them) before it may be forwarded.
   */
  tokensInStore: boolean;
}

/**
 * Decides whether a request may go upstream and how. Throws ThError: 405 method_not_allowed,
 * 401 unauthorized_request, 400 invalid_request, 404 not_found. Order: method, origin (cheap, and a
 * cross-site request learns nothing
 * else), path, route, session, CSRF.
 */
export function planForward(req: ProxyRequest, config: Config, cookies = proxySessionCookies(config), now = nowSeconds()): ForwardPlan {
  const method = req.method.toUpperCase();
  assertForwardedMethod(method);
  // W3C Fetch Metadata §2 / OWASP CSRF cheat sheet: same-origin only, for every method.
  assertTrustedOrigin(req.headers, method, config.publicOrigin);

  const { path, query } = splitRequestTarget(req.target);
  const decodedPath = assertSafeApiPath(path);
  const { route, remainder } = matchApiRoute(path, decodedPath, config.apiRoutes);

  const session = openProxySession(req.headers, cookies);
  if (!isSafeMethod(method)) assertCsrf(req.headers, config.cookiePrefix, session.csrf);

  const upstreamUrl = new URL(route.upstream + remainder + query);
  const headers = buildUpstreamHeaders(req.headers, {
    csrfHeader: csrfHeaderName(config.cookiePrefix),
    // Filled in once the stored tokens are loaded (refreshBeforeForward).
    credential: session.stored ? { authorization: '' } : upstreamAuthorization(session, method, upstreamUrl),
    upstreamHost: upstreamUrl.host,
    publicOrigin: publicOriginUrl(config),
    clientAddress: req.clientAddress,
    trustProxy: config.trustProxy,
    upgrade: req.upgrade,
  });
  return {
    kind: 'forward',
    method,
    route,
    upstreamUrl,
    headers,
    session,
    needsRefresh: accessTokenNeedsRefresh(session.accessTokenExpiresAt, config.refreshMarginSeconds, now, lifetimeOf(session)),
    tokensInStore: session.stored !== undefined,
  };
}

/**
 * Opens only the two cookies the proxy needs (2 AES-GCM decrypts): the CSRF cookie for the session id
 * and CSRF token, and the access-token cookie, which must carry the same session id.
 */
function openProxySession(headers: RequestHeaders, cookies: SessionCookies): ProxySession {
  const jar = new CookieJar(headers.get('cookie'));
  const csrf = cookies.open(jar, 'csrf');
  if (csrf.status !== 'ok') throw unauthorized('No valid session');
  const stored = storedTokensRefOf(csrf.value);
  if (stored === null) throw unauthorized('No valid session');
  const at = cookies.open(jar, 'at', csrf.value.s);
  // A stored session's at cookie carries only the expiry; any other needs its token.
  if (at.status !== 'ok' || (!at.value.v && !stored)) throw unauthorized('No valid session');
  // Absent for sessions without DPoP; a cookie that does not open (or is another session's) is refused.
  const dpop = cookies.open(jar, 'dpop', csrf.value.s);
  if (dpop.status === 'invalid') throw unauthorized('No valid session');
  const session: ProxySession = {
    sid: csrf.value.s, csrf: csrf.value.v, expiresAt: csrf.value.x ?? 0,
    accessToken: at.value.v, accessTokenExpiresAt: at.value.x ?? 0,
    ...(typeof at.value.i === 'number' ? { accessTokenIssuedAt: at.value.i } : {}),
    ...principalOf(csrf.value),
    ...(dpop.status === 'ok' ? { dpopKey: dpop.value.v } : {}),
    ...(stored ? { stored } : {}),
  };
  // Contract §7: an ended session never reaches an upstream, and its refresh token is never redeemed.
  assertNotRevoked(session, () => cookies.clear(jar));
  return session;
}

/** The access token's lifetime in seconds, when its cookie recorded the issue time. */
const lifetimeOf = (s: ProxySession) =>
  s.accessTokenIssuedAt === undefined ? undefined : Math.max(0, s.accessTokenExpiresAt - s.accessTokenIssuedAt);

/**
 * Contract §3: refresh when the token has expired or expires within REFRESH_MARGIN_SECONDS, the margin
 * capped at half the token's lifetime when that is known (a 60 s token is not refreshed at once).
 */
export function accessTokenNeedsRefresh(expiresAt: number, marginSeconds: number, now = nowSeconds(), lifetimeSeconds?: number): boolean {
  const margin = lifetimeSeconds === undefined ? marginSeconds : Math.min(marginSeconds, lifetimeSeconds / 2);
  return expiresAt - now <= margin;
}

// The access-token and CSRF cookies of up to 2,000 recently active sessions are remembered once opened
// (lib/cookies/opened-cookie-cache.ts): the proxy then decrypts each sealed value once, not per call.
// At most 4 MB of sealed values per kind (the plaintexts are about as large): ~16 MB in all.
const OPENED_COOKIE_CACHE = { maxEntries: 2_000, maxChars: 4 * 1024 * 1024 };

// Process-wide, keyed by config (module-level singletons: lib/ loads once per process).
const cookiesByConfig = new WeakMap<Config, SessionCookies>();
const originByConfig = new WeakMap<Config, URL>();

export function proxySessionCookies(config: Config): SessionCookies {
  let cookies = cookiesByConfig.get(config);
  if (!cookies) cookiesByConfig.set(config, (cookies = new SessionCookies(config, { cacheOpened: OPENED_COOKIE_CACHE })));
  return cookies;
}

function publicOriginUrl(config: Config): URL {
  let url = originByConfig.get(config);
  if (!url) originByConfig.set(config, (url = new URL(config.publicOrigin)));
  return url;
}
