// The proxy policy, rule by rule, without any transport: real config parsing and real cookie crypto.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { ThError } from '../errors';
import { CookieJar } from '../cookies/cookie-jar';
import { SessionCookies } from '../cookies/session-cookies';
import { assertSafeApiPath, findApiRoute, normaliseApiTarget } from './api-path';
import { accessTokenNeedsRefresh, planForward, type ProxyRequest } from './plan-forward';
import { filterUpstreamResponseHeaders } from './response-headers';

const ORIGIN = 'http://localhost:3000';
const config = loadConfig({
  PUBLIC_ORIGIN: ORIGIN, OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: randomBytes(32).toString('hex'), REFRESH_MARGIN_SECONDS: '30',
  API_ROUTES: '/api=http://api:8080,/api/orders=http://orders:8080/v1,/api/orders/admin=https://admin.internal',
});
const cookies = new SessionCookies(config);
const now = Math.floor(Date.now() / 1000);

function sessionCookie(accessToken = 'the-access-token', expiresIn = 300, issuedAgo?: number) {
  const issued = issuedAgo === undefined ? {} : { accessTokenIssuedAt: now - issuedAgo };
  const session = cookies.create({ accessToken, accessTokenExpiresAt: now + expiresIn, ...issued, refreshToken: 'rt', idToken: 'id' }, now);
  return { cookie: cookies.write(new CookieJar(''), session, now).map((l) => l.split(';')[0]).join('; '), csrf: session.csrf };
}
const alice = sessionCookie();

function req(target: string, headers: Record<string, string> = {}, method = 'GET', extra: Partial<ProxyRequest> = {}): ProxyRequest {
  return { method, target, headers: new Headers({ 'sec-fetch-site': 'same-origin', cookie: alice.cookie, ...headers }), ...extra };
}
function codeOf(fn: () => unknown): string | undefined {
  try { fn(); } catch (err) { return err instanceof ThError ? err.code : `not a ThError: ${String(err)}`; }
  return undefined;
}

describe('planForward: routes', () => {
  it('takes the longest prefix on a segment boundary and appends the raw remainder and query', () => {
    expect(planForward(req('/api/orders/1?a=%20b&c'), config).upstreamUrl.href).toBe('http://orders:8080/v1/1?a=%20b&c');
    expect(planForward(req('/api/orders'), config).upstreamUrl.href).toBe('http://orders:8080/v1');
    expect(planForward(req('/api/orders/admin/x'), config).upstreamUrl.href).toBe('https://admin.internal/x');
    expect(planForward(req('/api/ordersX'), config).upstreamUrl.href).toBe('http://api:8080/ordersX');
    expect(planForward(req('/api/a%20b'), config).upstreamUrl.pathname).toBe('/a%20b');
  });

  it('404 not_found when no prefix matches', () => {
    const only = loadConfig({ ...Object.fromEntries([['PUBLIC_ORIGIN', ORIGIN], ['OIDC_ISSUER', 'http://i'], ['OIDC_CLIENT_ID', 'c'], ['OIDC_CLIENT_SECRET', 's']]), COOKIE_KEYS: config.cookieKeys[0]!.toString('hex'), API_ROUTES: '/api/orders=http://orders' });
    expect(codeOf(() => planForward(req('/api/other'), only, new SessionCookies(only)))).toBe('not_found');
    expect(codeOf(() => planForward(req('/api/ordersX'), only, new SessionCookies(only)))).toBe('not_found');
    expect(findApiRoute('/api/orders/1', only.apiRoutes)?.prefix).toBe('/api/orders');
  });
});

describe('planForward: path checks (400 invalid_request)', () => {
  it.each([
    '/api/../x', '/api/%2e%2e/x', '/api/%2E%2E/x', '/api/%252e%252e/x', '/api/%25252e%25252e/x', '/api/./x', '/api/a/.', '/api/a/..',
    '/api/a%2fb', '/api/a%2Fb', '/api/a%252fb', '/api/a%5cb', '/api/a%5Cb', '/api/a\\b', '/api//x', '/api/x//', '/api/a%00b', '/api/a%0d%0ab',
    '/api/a%7fb', '/api/%zz', '/api/%', '/api/%e2%82', '/api/%6frders/1', '/api/a/..;/b', '/api/a/.;x=1/b', '/api/a/%2e%2e;x/b',
    // Contract §3: a `;` anywhere (servlets read /orders;x as /orders), encoded too, and a raw `#`.
    '/api/orders;x', '/api/orders;jsessionid=1/1', '/api/a%3bb', '/api/a%253Bb', '/api;x/orders', '/api/x#y', '/api/x?a=1#frag', '/api/x#/../admin',
  ])('%s', (target) => {
    expect(codeOf(() => planForward(req(target), config))).toBe('invalid_request');
  });

  it('keeps segments that only contain dots among other characters', () => {
    expect(assertSafeApiPath('/api/v1.2/..x/x../.a')).toBe('/api/v1.2/..x/x../.a');
  });

  it('a `;` in the query is the query\'s business', () => {
    expect(planForward(req('/api/x?a=1;b=2'), config).upstreamUrl.href).toBe('http://api:8080/x?a=1;b=2');
  });

  it('decodes until stable, with a bound', () => {
    expect(assertSafeApiPath('/api/%2561')).toBe('/api/a');
    expect(() => assertSafeApiPath(`/api/${'%25'.repeat(1)}25252561`)).toThrow(ThError);
  });
});

describe('normaliseApiTarget: targets that reach /api only after dot-segment removal (docs/contract.md §3)', () => {
  const isApi = (t: string) => t === '/api' || t.startsWith('/api/') || t.startsWith('/api?');
  it.each([
    ['/x/../api/y', '/api/y'], ['/./api/y', '/api/y'], ['/%2e/api/y', '/api/y'], ['/%2E/api/y?a=1', '/api/y?a=1'],
    ['/x/%2e%2e/api/y', '/api/y'], ['/x/.%2e/api/y', '/api/y'], ['/a/b/../../api', '/api'], ['/x/../api/y#f', '/api/y#f'], ['/x/../api/y#', '/api/y#'],
    ['/x/..\\api/y', '/api/y'],
  ])('%s → %s', (target, expected) => {
    expect(normaliseApiTarget(target, isApi)).toBe(expected);
  });

  it.each(['/index.html', '/x/../y', '/api.txt', '/x/y?next=/../api', '//evil/../api/y', '/\\evil/../api/y', '/.well-known/x'])('%s is no API request', (target) => {
    expect(normaliseApiTarget(target, isApi)).toBeUndefined();
  });

  it('the normalised target then meets every /api rule: a `;` or a fragment is still refused', () => {
    expect(codeOf(() => planForward(req(normaliseApiTarget('/x/../api/y;z', isApi)!), config))).toBe('invalid_request');
    expect(codeOf(() => planForward(req(normaliseApiTarget('/x/../api/y#', isApi)!), config))).toBe('invalid_request');
  });
});

describe('planForward: methods (405 method_not_allowed)', () => {
  it.each(['TRACE', 'TRACK', 'CONNECT', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'QUERY', 'trace'])('%s, even with a session and CSRF', (method) => {
    expect(codeOf(() => planForward(req('/api/x', { 'x-th-csrf': alice.csrf }, method), config))).toBe('method_not_allowed');
  });

  it('before any other rule: a cross-site TRACE learns nothing more', () => {
    expect(codeOf(() => planForward(req('/api/../x', { 'sec-fetch-site': 'cross-site' }, 'TRACE'), config))).toBe('method_not_allowed');
  });
});

describe('planForward: origin, session and CSRF (401 unauthorized_request)', () => {
  it.each([
    ['no cookie', req('/api/x', { cookie: '' })],
    ['a garbage cookie', req('/api/x', { cookie: '__Host-th-at=x; __Host-th-csrf=y' })],
    ['cross-site', req('/api/x', { 'sec-fetch-site': 'cross-site' })],
    ['same-site', req('/api/x', { 'sec-fetch-site': 'same-site' })],
    ['none (typed URL, but with a foreign Origin)', req('/api/x', { 'sec-fetch-site': 'none', origin: 'http://evil' })],
    ['a foreign Origin', { method: 'GET', target: '/api/x', headers: new Headers({ origin: 'http://evil', cookie: alice.cookie }) }],
    ['POST without CSRF', req('/api/x', {}, 'POST')],
    ['DELETE with a wrong CSRF', req('/api/x', { 'x-th-csrf': 'nope' }, 'DELETE')],
    ['PATCH with another session\'s CSRF', req('/api/x', { 'x-th-csrf': sessionCookie().csrf }, 'PATCH')],
    ['a POST without Origin or Sec-Fetch-Site', { method: 'POST', target: '/api/x', headers: new Headers({ cookie: alice.cookie, 'x-th-csrf': alice.csrf }) }],
    ['cookies of two sessions', req('/api/x', { cookie: `${alice.cookie.split('; ').find((c) => c.startsWith('__Host-th-at='))}; ${sessionCookie().cookie.split('; ').find((c) => c.startsWith('__Host-th-csrf='))}` })],
    ['x-middleware-subrequest without a session', req('/api/x', { cookie: '', 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' })],
  ])('%s', (_name, request) => {
    expect(codeOf(() => planForward(request, config))).toBe('unauthorized_request');
  });

  it('accepts GET/HEAD/OPTIONS without CSRF, and unsafe methods with it', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS']) expect(planForward(req('/api/x', {}, m), config).kind).toBe('forward');
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(planForward(req('/api/x', { 'x-th-csrf': alice.csrf }, m), config).kind).toBe('forward');
  });

  it('forwards an expired access token as is, flagged for refresh (docs/contract.md §3)', () => {
    const expired = sessionCookie('old-token', -10);
    const plan = planForward(req('/api/x', { cookie: expired.cookie }), config);
    expect(plan.headers.authorization).toBe('Bearer old-token');
    expect(plan.needsRefresh).toBe(true);
    expect(planForward(req('/api/x'), config).needsRefresh).toBe(false);
  });

  it('reads the token\'s lifetime from the cookie: a 20 s token is not refreshed at once with a 30 s margin', () => {
    const flag = (c: { cookie: string }) => planForward(req('/api/x', { cookie: c.cookie }), config).needsRefresh;
    expect(flag(sessionCookie('fresh-20s', 20, 0))).toBe(false); // capped at 10 s
    expect(flag(sessionCookie('half-spent-20s', 9, 11))).toBe(true);
    expect(flag(sessionCookie('legacy-cookie', 20))).toBe(true); // no issue time recorded: the full margin
    const plan = planForward(req('/api/x', { cookie: sessionCookie('x', 9, 11).cookie }), config);
    expect(plan.session).toMatchObject({ accessTokenExpiresAt: now + 9, accessTokenIssuedAt: now - 11 });
  });

  it('refresh margin: REFRESH_MARGIN_SECONDS, capped at half the lifetime when known', () => {
    expect(accessTokenNeedsRefresh(now + 29, 30, now)).toBe(true);
    expect(accessTokenNeedsRefresh(now + 31, 30, now)).toBe(false);
    expect(accessTokenNeedsRefresh(now + 25, 30, now, 40)).toBe(false);
    expect(accessTokenNeedsRefresh(now + 19, 30, now, 40)).toBe(true);
  });
});

describe('planForward: request headers', () => {
  it('drops the drop-list, sets one Bearer, Host and X-Forwarded-* from config and the connection', () => {
    const plan = planForward(req('/api/x', {
      authorization: 'Basic abc', 'proxy-authorization': 'x', 'x-th-csrf': alice.csrf,
      'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil', 'x-forwarded-proto': 'https', 'x-forwarded-port': '1', forwarded: 'for=6.6.6.6', 'x-real-ip': '6.6.6.6',
      x_forwarded_for: '7.7.7.7', 'x_real_ip': '7', 'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE',
      'x-middleware-subrequest': 'm', 'x-middleware-rewrite': 'r', 'x-nextjs-data': '1', rsc: '1', 'next-router-state-tree': 't', 'next-router-prefetch': '1', 'next-action': 'a', 'next-url': '/',
      'x-invoke-path': '/', 'x-vercel-proxy-signature': 's', 'x-matched-path': '/admin', 'x-now-route-matches': '1',
      'x-original-url': '/admin', 'x-rewrite-url': '/admin',
      'true-client-ip': '6.6.6.6', 'cf-connecting-ip': '6.6.6.6', 'x-client-ip': '6.6.6.6', 'x-cluster-client-ip': '6.6.6.6', 'fastly-client-ip': '6.6.6.6',
      'x-original-forwarded-for': '6.6.6.6', 'x-forwarded-server': 'evil', 'x-host': 'evil', 'x-original-host': 'evil', 'x-http-host-override': 'evil',
      connection: 'keep-alive, X-Secret', 'x-secret': 's', 'keep-alive': 'timeout=5', te: 'trailers', trailer: 'x', upgrade: 'h2c', 'proxy-connection': 'keep-alive', 'transfer-encoding': 'chunked',
      host: 'evil.example', 'accept-language': 'fr', 'if-none-match': '"e"', 'x-request-id': 'r1', 'content-type': 'application/json',
    }), config, cookies, now);
    expect(plan.headers).toEqual({
      'sec-fetch-site': 'same-origin', 'accept-language': 'fr', 'if-none-match': '"e"', 'x-request-id': 'r1', 'content-type': 'application/json',
      host: 'api:8080', authorization: 'Bearer the-access-token', 'x-forwarded-host': 'localhost:3000', 'x-forwarded-proto': 'http',
    });
  });

  it('X-Forwarded-For: the connection\'s address; behind TRUST_PROXY the proxy\'s value is kept and the peer appended', () => {
    expect(planForward(req('/api/x', { 'x-forwarded-for': '6.6.6.6' }, 'GET', { clientAddress: '::ffff:10.0.0.1' }), config).headers['x-forwarded-for']).toBe('10.0.0.1');
    const trusting = loadConfig({ PUBLIC_ORIGIN: ORIGIN, OIDC_ISSUER: 'http://i', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's', COOKIE_KEYS: config.cookieKeys[0]!.toString('hex'), API_ROUTES: '/api=http://api', TRUST_PROXY: 'true' });
    const c = new SessionCookies(trusting);
    expect(planForward(req('/api/x', { 'x-forwarded-for': '203.0.113.9' }, 'GET', { clientAddress: '10.0.0.1' }), trusting, c).headers['x-forwarded-for']).toBe('203.0.113.9, 10.0.0.1');
    expect(planForward(req('/api/x', { 'x-forwarded-for': '203.0.113.9' }), trusting, c).headers['x-forwarded-for']).toBe('203.0.113.9');
  });

  it('keeps Upgrade/Connection on a WebSocket handshake only', () => {
    const plan = planForward(req('/api/ws', { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' }, 'GET', { upgrade: true }), config);
    expect(plan.headers).toMatchObject({ connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
  });
});

describe('filterUpstreamResponseHeaders', () => {
  const route = config.apiRoutes.find((r) => r.prefix === '/api/orders')!;
  const ctx = { route, upstreamUrl: new URL('http://orders:8080/v1/list'), publicOrigin: ORIGIN };

  it('drops Set-Cookie, hop-by-hop, Connection-named and Next internal headers; adds no-store when no Cache-Control', () => {
    const out = filterUpstreamResponseHeaders(Object.entries({
      'set-cookie': ['a=1', 'b=2'], connection: 'x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked',
      'x-middleware-rewrite': 'http://orders:8080/v1/list', 'x-nextjs-cache': 'HIT', 'content-type': 'application/json', etag: '"1"',
    }), ctx);
    expect(out).toEqual({ 'content-type': 'application/json', etag: '"1"', 'cache-control': 'no-store' });
    expect(filterUpstreamResponseHeaders([['cache-control', 'max-age=60']], ctx)['cache-control']).toBe('max-age=60');
  });

  it('rewrites a Location into the route to the public path, drops one elsewhere on the upstream, passes other sites', () => {
    const loc = (l: string) => filterUpstreamResponseHeaders([['location', l]], ctx).location;
    expect(loc('http://orders:8080/v1/items/2?x=1')).toBe(`${ORIGIN}/api/orders/items/2?x=1`);
    expect(loc('/v1/items/3')).toBe(`${ORIGIN}/api/orders/items/3`);
    expect(loc('items/4')).toBe(`${ORIGIN}/api/orders/items/4`);
    expect(loc('http://orders:8080/internal')).toBeUndefined();
    expect(loc('/internal')).toBeUndefined();
    expect(loc('https://login.example.com/x')).toBe('https://login.example.com/x');
  });

  it('drops any other header that names the upstream\'s address', () => {
    const out = filterUpstreamResponseHeaders([['link', '<http://orders:8080/v1/next>; rel=next'], ['x-debug', 'served by orders:8080'], ['x-ok', 'fine']], ctx);
    expect(out).toEqual({ 'x-ok': 'fine', 'cache-control': 'no-store' });
  });
});

describe('planForward: revoked sessions (docs/contract.md §7)', () => {
  it('refuses a session on the denylist with 401 session_expired, clearing every session cookie; others pass', async () => {
    const { getSessionDenylist } = await import('../revocation/default-denylist');
    const session = cookies.create({ accessToken: 'revoked-token', accessTokenExpiresAt: now + 300, refreshToken: 'rt' }, now,
      { idpSid: 'op-sid-revoked', sub: 'mallory', iss: 'http://127.0.0.1:4000' });
    const cookie = cookies.write(new CookieJar(''), session, now).map((l) => l.split(';')[0]).join('; ');
    const request = () => req('/api/orders/1', { cookie });
    expect(planForward(request(), config, cookies).session.idpSid).toBe('op-sid-revoked');

    await getSessionDenylist().revoke({ kind: 'idp-session', iss: 'http://127.0.0.1:4000', idpSid: 'op-sid-revoked' }, now + 600);
    let thrown: unknown;
    try { planForward(request(), config, cookies); } catch (err) { thrown = err; }
    expect(thrown instanceof ThError && thrown.code).toBe('session_expired');
    const cleared = (thrown as ThError).headers.filter(([k, v]) => k === 'set-cookie' && /Max-Age=0/.test(v)).map(([, v]) => v.split('=')[0]);
    expect(cleared.sort()).toEqual(['__Host-th-at', '__Host-th-csrf', '__Host-th-id', '__Host-th-rt']);
    expect(planForward(req('/api/orders/1'), config, cookies).session.sid).not.toBe(session.sid);
  });
});
