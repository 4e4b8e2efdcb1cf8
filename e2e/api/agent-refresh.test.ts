// Race-free refresh. One refresh-token grant per session however many requests race,
// successors for late requests inside the grace window, nothing after it, sessions never mixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import type { Transport } from '../harness/start-bff';
import { callAgent, clearedNames, idpEvents, openSession, refreshGrants, SESSION_COOKIES, subjectOf } from './agent-test-helpers';

// Longer than 20 parallel refreshes take on a loaded machine, so none arrives after it; its end is
// tested on the second stack (END_GRACE_SECONDS), polled.
const GRACE_SECONDS = 60;
const END_GRACE_SECONDS = 3;
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ transports: ['node', 'next'], accessTokenTtl: 60, bffEnv: { REFRESH_GRACE_SECONDS: String(GRACE_SECONDS) } });
});
afterAll(async () => { await stack?.close(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each<Transport>(['node', 'next'])('refresh (%s transport)', (transport) => {
  const bff = () => stack.bff(transport);

  it('20 parallel refreshes of one session: all 204, identical successor tokens, exactly one grant', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    const since = Date.now();
    const before = refreshGrants(await idpEvents(stack.local.issuer)).length;
    const responses = await Promise.all(Array.from({ length: 20 }, () => callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf })));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(204));
    const sessions = responses.map((r) => openSession(bff(), applySetCookies(login.cookies, r.headers.getSetCookie()))!);
    const old = openSession(bff(), login.cookies)!;
    expect(new Set(sessions.map((s) => s.accessToken)).size).toBe(1);
    expect(new Set(sessions.map((s) => s.refreshToken)).size).toBe(1);
    expect(sessions[0]!.refreshToken).not.toBe(old.refreshToken);
    expect(sessions[0]!.accessToken).not.toBe(old.accessToken);
    const grants = refreshGrants(await idpEvents(stack.local.issuer)).length - before;
    expect(grants).toBe(1);
    expect((await idpEvents(stack.local.issuer)).filter((e) => e.type === 'grant.error' && e.at >= since)).toEqual([]);
  });

  it('a late request with the pre-rotation cookies inside the grace window gets the successor tokens', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    const first = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(first.status).toBe(204);
    const successor = openSession(bff(), applySetCookies(login.cookies, first.headers.getSetCookie()))!;
    const before = refreshGrants(await idpEvents(stack.local.issuer)).length;
    const late = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(late.status).toBe(204);
    const lateSession = openSession(bff(), applySetCookies(login.cookies, late.headers.getSetCookie()))!;
    expect(lateSession.accessToken).toBe(successor.accessToken);
    expect(lateSession.refreshToken).toBe(successor.refreshToken);
    expect(refreshGrants(await idpEvents(stack.local.issuer)).length).toBe(before);
  });

  it('two sessions refreshing concurrently each get only their own tokens', async () => {
    const [alice, bob] = await Promise.all([loginThroughBff(bff(), 'alice'), loginThroughBff(bff(), 'bob')]);
    const calls = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? { who: 'alice', login: alice } : { who: 'bob', login: bob }));
    const results = await Promise.all(calls.map(async ({ who, login }) => {
      const res = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
      return { who, status: res.status, session: openSession(bff(), applySetCookies(login.cookies, res.headers.getSetCookie()))! };
    }));
    for (const r of results) {
      expect(r.status).toBe(204);
      expect(subjectOf(r.session.accessToken)).toBe(r.who);
      expect(r.session.csrf).toBe(r.who === 'alice' ? alice.csrf : bob.csrf);
    }
    expect(new Set(results.filter((r) => r.who === 'alice').map((r) => r.session.accessToken)).size).toBe(1);
    expect(new Set(results.filter((r) => r.who === 'bob').map((r) => r.session.accessToken)).size).toBe(1);
  });

  it('a refresh token revoked at the identity server ends the session: 401 session_expired, cookies cleared', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    const { refreshToken } = openSession(bff(), login.cookies)!;
    const revoked = await fetch(`${stack.local.issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-bff:demo-bff-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken!, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    const res = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe('session_expired');
    expect(clearedNames(res.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());
  });

  it('session reports accessTokenExpiresIn from the cookie, counting down', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    expect(login.body.accessTokenExpiresIn).toBeGreaterThan(55);
    expect(login.body.accessTokenExpiresIn).toBeLessThanOrEqual(60);
    // Whole seconds: polled until the next second has begun, bounded.
    let body: { accessTokenExpiresIn: number } = { accessTokenExpiresIn: login.body.accessTokenExpiresIn! };
    for (const deadline = Date.now() + 10_000; body.accessTokenExpiresIn >= login.body.accessTokenExpiresIn! && Date.now() < deadline; await sleep(100)) {
      body = await (await callAgent(bff(), 'session', { cookies: login.cookies })).json();
    }
    expect(body.accessTokenExpiresIn).toBeLessThan(login.body.accessTokenExpiresIn!);
  });
});

describe('an expired access token and the end of the grace window (node transport, 2 s tokens)', () => {
  let short: Stack;
  beforeAll(async () => { short = await startStack({ transports: ['node'], accessTokenTtl: 2, bffEnv: { REFRESH_GRACE_SECONDS: String(END_GRACE_SECONDS) } }); });
  afterAll(async () => { await short?.close(); });

  it('after the grace window (REFRESH_GRACE_SECONDS=3) the pre-rotation cookies end the session: 401 session_expired, cookies cleared', async () => {
    const bff = short.bff('node');
    const login = await loginThroughBff(bff, 'alice');
    const sent = Date.now();
    const first = await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(first.status).toBe(204);
    const original = openSession(bff, login.cookies)!;
    const successor = openSession(bff, applySetCookies(login.cookies, first.headers.getSetCookie()))!;
    // Late requests with the pre-rotation cookies get the successor until the window ends, then 401:
    // polled, so a slow machine only makes the loop longer. Each in-window answer reuses the successor.
    let late: Response;
    for (const deadline = sent + (END_GRACE_SECONDS + 15) * 1000; ; await sleep(250)) {
      late = await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf });
      if (late.status !== 204) break;
      // The successor, or (once that 2 s successor is itself due) the newest of its chain:
      // never the used pre-rotation refresh token.
      const lateRefreshToken = openSession(bff, applySetCookies(login.cookies, late.headers.getSetCookie()))!.refreshToken;
      expect(lateRefreshToken).not.toBe(original.refreshToken);
      expect(Date.now()).toBeLessThan(deadline);
    }
    // The window is REFRESH_GRACE_SECONDS from the rotation, which came after `sent`.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(END_GRACE_SECONDS * 1000 - 50);
    expect(late.status).toBe(401);
    expect(late.headers.get('cache-control')).toBe('no-store');
    expect((await late.json()).code).toBe('session_expired');
    expect(clearedNames(late.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());
  });

  it('userInfo → 401 token_expired, session reports accessTokenExpiresIn ≤ 0, refresh then userInfo works', async () => {
    const bff = short.bff('node');
    const login = await loginThroughBff(bff, 'alice');
    await sleep(4_000); // 2 s lifetime + the identity server's 1 s clock tolerance
    const session = await (await callAgent(bff, 'session', { cookies: login.cookies })).json();
    expect(session.isLoggedIn).toBe(true);
    expect(session.accessTokenExpiresIn).toBeLessThanOrEqual(0);
    const expired = await callAgent(bff, 'userInfo', { cookies: login.cookies });
    expect(expired.status).toBe(401);
    expect((await expired.json()).code).toBe('token_expired');
    expect(expired.headers.getSetCookie()).toEqual([]);
    const refresh = await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(refresh.status).toBe(204);
    const userInfo = await callAgent(bff, 'userInfo', { cookies: applySetCookies(login.cookies, refresh.headers.getSetCookie()) });
    expect(userInfo.status).toBe(200);
    expect((await userInfo.json()).sub).toBe('alice');
  });
});
