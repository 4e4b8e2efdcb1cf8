// several instances: two Node server processes share COOKIE_KEYS and one PUBLIC_ORIGIN, as
// behind one load balancer (here the test plays the balancer: every request carries the public
// origin's Origin/Sec-Fetch-Site, whichever instance it is sent to). Sessions live in the cookies
// only, so any instance serves any step: no sticky sessions, no shared store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { freePort } from '../harness/free-port';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import { startRedis, type RunningRedis } from '../harness/redis-server';
import { startBff, type RunningBff } from '../harness/start-bff';
import { CSRF_HEADER, idpEvents, refreshGrants } from './agent-test-helpers';
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';

let stack: Stack;
let a: RunningBff; // listens on the public origin's port (the redirect URI registered at the IdP)
let b: RunningBff; // another port, same PUBLIC_ORIGIN and COOKIE_KEYS

beforeAll(async () => {
  stack = await startStack({ transports: ['node'] });
  a = stack.bff('node');
  b = await startBff({
    transport: 'node', port: await freePort(), issuer: stack.local.issuer, apiRoutes: `/api=${stack.local.apiUrl}`,
    cookieKeys: stack.cookieKeys, env: { PUBLIC_ORIGIN: a.origin },
  });
});
afterAll(async () => {
  await b?.stop();
  await stack?.close();
});

/** A request the SPA on the public origin makes, delivered by the balancer to `instance`. */
function send(instance: RunningBff, path: string, cookies: string, init: { method?: string; csrf?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${instance.origin}${path}`, {
    method: init.method ?? 'GET',
    headers: browserHeaders(a, cookies, init.csrf ? { [CSRF_HEADER]: init.csrf } : {}),
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function callApi(instance: RunningBff, cookies: string): Promise<{ sub: string; bearer: string }> {
  const res = await send(instance, '/api/echo', cookies);
  expect(res.status, instance.origin).toBe(200);
  const body = await res.json() as { sub: string; headers: { authorization: string } };
  return { sub: body.sub, bearer: body.headers.authorization };
}

describe('two instances behind one origin', () => {
  it('log in on one, call the API and refresh on the other, use the refreshed cookies on the first', async () => {
    const login = await loginThroughBff(a, 'alice');
    let cookies = login.cookies;

    const first = await callApi(b, cookies);
    expect(first.sub).toBe('alice');

    const before = refreshGrants(await idpEvents(stack.local.issuer)).length;
    const refresh = await send(b, '/oauth-agent/refresh', cookies, { method: 'POST', csrf: login.csrf });
    expect(refresh.status).toBe(204);
    expect(refreshGrants(await idpEvents(stack.local.issuer)).length - before).toBe(1);
    cookies = applySetCookies(cookies, refresh.headers.getSetCookie());

    const after = await callApi(a, cookies);
    expect(after.sub).toBe('alice');
    expect(after.bearer).not.toBe(first.bearer); // the access token b obtained, decrypted by a
    const session = await (await send(a, '/oauth-agent/session', cookies)).json() as { isLoggedIn: boolean; csrf?: string };
    expect(session.isLoggedIn).toBe(true);
    // The rotated refresh token b stored works on a too.
    const again = await send(a, '/oauth-agent/refresh', cookies, { method: 'POST', csrf: session.csrf });
    expect(again.status).toBe(204);
  });

  it('a login started on one instance is finished on the other (the transaction cookie is portable)', async () => {
    const start = await send(b, '/oauth-agent/login/start', '', { method: 'POST', body: {} });
    expect(start.status).toBe(200);
    const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
    const cookies = applySetCookies('', start.headers.getSetCookie());
    const pageUrl = await loginAtIdentityServer(authorizationRequestUrl, 'bob', new IdpCookieJar());
    // The redirect URI (pushed with PAR, so not in the URL) is the shared PUBLIC_ORIGIN's.
    expect(`${new URL(pageUrl).origin}${new URL(pageUrl).pathname}`).toBe(`${a.origin}/`);
    const end = await send(a, '/oauth-agent/login/end', cookies, { method: 'POST', body: { pageUrl } });
    expect(end.status).toBe(200);
    expect(await end.json()).toMatchObject({ handled: true, isLoggedIn: true });
    expect((await callApi(b, applySetCookies(cookies, end.headers.getSetCookie()))).sub).toBe('bob');
  });

  // The no-store baseline (README "Several instances"): without SESSION_STORE_URL the refresh
  // single-flight and the grace store of rotated refresh tokens live in each process. When two
  // instances redeem one refresh token at once, the identity server sees a reused refresh token and,
  // as RFC 9700 §4.14.2 asks, revokes the whole grant. The store suite below turns it into [204, 204].
  it('without a store: the same session refreshed on both instances at once: one wins, the reuse revokes the grant, the session ends', async () => {
    const login = await loginThroughBff(a, 'carol');
    const revoked = async () => (await idpEvents(stack.local.issuer)).filter((e) => e.type === 'grant.revoked').length;
    const revokedBefore = await revoked();
    const [ra, rb] = await Promise.all([a, b].map((i) => send(i, '/oauth-agent/refresh', login.cookies, { method: 'POST', csrf: login.csrf })));
    const responses = [ra!, rb!].sort((x, y) => x.status - y.status);
    expect(responses.map((r) => r.status)).toEqual([204, 401]);
    const [winner, loser] = responses as [Response, Response];
    expect((await loser.json() as { code: string }).code).toBe('session_expired');
    expect(loser.headers.getSetCookie().filter((c) => /Max-Age=0/.test(c)).length).toBeGreaterThanOrEqual(4);
    expect(await revoked() - revokedBefore).toBe(1);
    // The winner's access token still works until it expires; its rotated refresh token was revoked with the grant.
    const cookies = applySetCookies(login.cookies, winner.headers.getSetCookie());
    expect((await callApi(a, cookies)).sub).toBe('carol');
    const next = await send(b, '/oauth-agent/refresh', cookies, { method: 'POST', csrf: login.csrf });
    expect(next.status).toBe(401);
    expect((await next.json() as { code: string }).code).toBe('session_expired');
  });

  it('within one instance, the same concurrent refreshes share one grant and both succeed', async () => {
    const login = await loginThroughBff(a, 'erin');
    const before = refreshGrants(await idpEvents(stack.local.issuer)).length;
    const both = await Promise.all([1, 2].map(() => send(a, '/oauth-agent/refresh', login.cookies, { method: 'POST', csrf: login.csrf })));
    expect(both.map((r) => r.status)).toEqual([204, 204]);
    expect(refreshGrants(await idpEvents(stack.local.issuer)).length - before).toBe(1);
  });

  it('an instance with other COOKIE_KEYS cannot read the session: 401 unauthorized_request', async () => {
    const login = await loginThroughBff(a, 'dave');
    const stranger = await startBff({
      transport: 'node', port: await freePort(), issuer: stack.local.issuer, apiRoutes: `/api=${stack.local.apiUrl}`, env: { PUBLIC_ORIGIN: a.origin },
    });
    try {
      const res = await send(stranger, '/api/echo', login.cookies);
      expect(res.status).toBe(401);
      expect((await res.json() as { code: string }).code).toBe('unauthorized_request');
    } finally {
      await stranger.stop();
    }
  });
});

describe('two instances sharing a store (SESSION_STORE_URL, docs/contract.md §6)', () => {
  let redis: RunningRedis;
  let c: RunningBff; // two more instances of a's origin, sharing one store
  let d: RunningBff;

  beforeAll(async () => {
    redis = await startRedis();
    const env = { PUBLIC_ORIGIN: a.origin, SESSION_STORE_URL: redis.url };
    const common = { transport: 'node' as const, issuer: stack.local.issuer, apiRoutes: `/api=${stack.local.apiUrl}`, cookieKeys: stack.cookieKeys, env };
    [c, d] = await Promise.all([startBff({ ...common, port: await freePort() }), startBff({ ...common, port: await freePort() })]);
  });
  afterAll(async () => {
    await Promise.all([c?.stop(), d?.stop()]);
    await redis?.stop();
  });

  it('the same session refreshed on both instances at once: one grant, both 204 with the same tokens, the grant lives on', async () => {
    const login = await loginThroughBff(a, 'carla');
    const events = async () => idpEvents(stack.local.issuer);
    const t0 = Date.now();
    const both = await Promise.all([c, d].map((i) => send(i, '/oauth-agent/refresh', login.cookies, { method: 'POST', csrf: login.csrf })));
    expect(both.map((r) => r.status)).toEqual([204, 204]);
    const after = (await events()).filter((e) => e.at >= t0);
    expect(refreshGrants(after)).toHaveLength(1);
    expect(after.filter((e) => e.type === 'grant.revoked' || e.type === 'grant.error')).toEqual([]);
    const [one, two] = both.map((r) => applySetCookies(login.cookies, r.headers.getSetCookie()));
    expect((await callApi(c, one!)).bearer).toBe((await callApi(d, two!)).bearer);
    const next = await send(d, '/oauth-agent/refresh', one!, { method: 'POST', csrf: login.csrf });
    expect(next.status).toBe(204);
  });
});
