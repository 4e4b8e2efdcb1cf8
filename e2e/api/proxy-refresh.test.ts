// the OAuth Proxy refreshes transparently, on both transports. Witnesses: the identity
// server's own grant log (`/__test/events`) and the sample API's canary log (what went upstream).
// Tokens live 10 s here, so the margin is capped at 5 s (half the lifetime) and the clock is the
// access-token cookie's own expiry, read with the BFF's keys.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applySetCookies } from '../harness/browser-cookies';
import { browserHeaders, loginThroughBff, type LoginResult } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import type { RunningBff, Transport } from '../harness/start-bff';
import { loadConfig } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies } from '../../lib/cookies/session-cookies';
import { callAgent, clearedNames, idpEvents, openSession, refreshGrants, SESSION_COOKIES, subjectOf } from './agent-test-helpers';

// Long enough that each step fits inside the windows below on a loaded 2-core machine (4 s did not).
const TOKEN_SECONDS = 10;
// Longer than a 50-call storm takes on a loaded 2-core machine (measured: 13 s under CI load), so no
// caller of a storm arrives after it. Its end is tested on a stack of its own (END_GRACE_SECONDS).
const GRACE_SECONDS = 60;
// Below the successor's own margin (half its lifetime), so late calls inside it reuse the successor.
const END_GRACE_SECONDS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Sleeps until the BFF's whole-second clock reads `unixSeconds`. */
const waitUntil = async (unixSeconds: number) => { const ms = unixSeconds * 1000 + 100 - Date.now(); if (ms > 0) await sleep(ms); };

/** The BFF's cookie codec (its keys and origin), to forge what a skewed clock would produce. */
const sessionCookiesOf = (bff: RunningBff) => new SessionCookies(loadConfig({
  PUBLIC_ORIGIN: bff.origin, OIDC_ISSUER: 'http://127.0.0.1:1', OIDC_CLIENT_ID: 'demo-bff', OIDC_CLIENT_SECRET: 'x',
  COOKIE_KEYS: bff.cookieKeys, API_ROUTES: '/api=http://127.0.0.1:1',
}));

interface UpstreamEntry { path: string; url: string; headers: Record<string, string | string[]> }

function helpers(stackRef: () => Stack) {
  const api = (bff: RunningBff, cookies: string, path = '/api/whoami', init: RequestInit & { csrf?: string } = {}) =>
    fetch(`${bff.origin}${path}`, { ...init, headers: browserHeaders(bff, cookies, init.csrf ? { 'x-th-csrf': init.csrf } : {}) });
  const upstreamLog = async () => (await fetch(`${stackRef().local.apiUrl}/__log`)).json() as Promise<UpstreamEntry[]>;
  const clearUpstreamLog = async () => { await fetch(`${stackRef().local.apiUrl}/__log`, { method: 'DELETE' }); };
  const grantsSince = async (since: number) => {
    const events = (await idpEvents(stackRef().local.issuer)).filter((e) => e.at >= since);
    return { refreshes: refreshGrants(events).length, errors: events.filter((e) => e.type === 'grant.error') };
  };
  const tokenOf = (bff: RunningBff, cookies: string) => openSession(bff, cookies)!;
  return { api, upstreamLog, clearUpstreamLog, grantsSince, tokenOf };
}

describe('transparent refresh in the OAuth Proxy', () => {
  let stack: Stack;
  const { api, upstreamLog, clearUpstreamLog, grantsSince, tokenOf } = helpers(() => stack);
  beforeAll(async () => {
    stack = await startStack({ transports: ['node', 'next'], accessTokenTtl: TOKEN_SECONDS, bffEnv: { REFRESH_GRACE_SECONDS: String(GRACE_SECONDS) } });
  }, 120_000);
  afterAll(async () => { await stack?.close(); });
  beforeEach(async () => { await clearUpstreamLog(); });

  describe.each<Transport>(['node', 'next'])('%s transport', (transport) => {
    const bff = () => stack.bff(transport);

    it('refresh storm: 50 parallel calls with an expired token → all 200, one grant, the same successor cookies, and the session lives on', async () => {
      const login = await loginThroughBff(bff(), 'alice');
      const old = tokenOf(bff(), login.cookies);
      await waitUntil(old.accessTokenExpiresAt);
      const since = Date.now();
      const responses = await Promise.all(Array.from({ length: 50 }, () => api(bff(), login.cookies)));
      const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ sub?: string; code?: string }>));
      expect(responses.map((r, i) => `${r.status} ${bodies[i]!.code ?? ''}`.trim())).toEqual(Array(50).fill('200'));
      expect(bodies.every((b) => b.sub === 'alice')).toBe(true);
      for (const r of responses) expect(r.headers.get('cache-control')).toBe('no-store');
      const successors = responses.map((r) => tokenOf(bff(), applySetCookies(login.cookies, r.headers.getSetCookie())));
      expect(new Set(successors.map((s) => s.accessToken)).size).toBe(1);
      expect(new Set(successors.map((s) => s.refreshToken)).size).toBe(1);
      const next = successors[0]!;
      expect(next.accessToken).not.toBe(old.accessToken);
      expect(next.refreshToken).not.toBe(old.refreshToken);
      expect(next.csrf).toBe(old.csrf);
      expect(await grantsSince(since)).toEqual({ refreshes: 1, errors: [] });
      // Every forwarded call carried the successor token, none the expired one.
      const log = await upstreamLog();
      expect(log).toHaveLength(50);
      expect(new Set(log.map((e) => e.headers.authorization))).toEqual(new Set([`Bearer ${next.accessToken}`]));

      const cookies = applySetCookies(login.cookies, responses[0]!.headers.getSetCookie());
      const after = await api(bff(), cookies);
      expect(after.status).toBe(200);
      expect((await after.json()).sub).toBe('alice');
      // The successor is forwarded as it is: no new grant, unless the storm outlasted half its
      // lifetime (a loaded machine), when the successor's own proactive refresh is due, and only then.
      const grants = refreshGrants(await idpEvents(stack.local.issuer)).filter((e) => e.at >= since);
      if (after.headers.getSetCookie().length === 0) expect(grants).toHaveLength(1);
      else expect(grants.at(-1)!.at).toBeGreaterThanOrEqual((next.accessTokenExpiresAt - TOKEN_SECONDS / 2 - 1) * 1000);
    });

    it('proactive: a fresh token is not refreshed (margin capped at half its life); inside the margin, before expiry, it is, and the upstream sees the new one', async () => {
      const login = await loginThroughBff(bff(), 'alice');
      const old = tokenOf(bff(), login.cookies);
      // 10 s of life left against REFRESH_MARGIN_SECONDS=30: without the cap every call would refresh.
      const fresh = await api(bff(), login.cookies);
      expect(fresh.status).toBe(200);
      expect(fresh.headers.getSetCookie()).toEqual([]);
      await waitUntil(old.accessTokenExpiresAt - TOKEN_SECONDS / 2);
      const since = Date.now();
      await clearUpstreamLog();
      const res = await api(bff(), login.cookies);
      expect(res.status).toBe(200);
      // The grant itself (the identity server's clock, this machine's) came before the old token expired.
      const grant = refreshGrants(await idpEvents(stack.local.issuer)).filter((e) => e.at >= since);
      expect(grant).toHaveLength(1);
      expect(grant[0]!.at).toBeLessThan(old.accessTokenExpiresAt * 1000);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const renewed = tokenOf(bff(), applySetCookies(login.cookies, res.headers.getSetCookie()));
      expect(renewed.accessToken).not.toBe(old.accessToken);
      expect(renewed.accessTokenExpiresAt).toBeGreaterThan(old.accessTokenExpiresAt);
      const [seen, ...more] = await upstreamLog();
      expect(more).toEqual([]);
      expect(seen!.headers.authorization).toBe(`Bearer ${renewed.accessToken}`);
      expect(await grantsSince(since)).toEqual({ refreshes: 1, errors: [] });
    });

    it('a late call with the pre-rotation cookies gets the successor inside the grace window', async () => {
      const login = await loginThroughBff(bff(), 'alice');
      await waitUntil(tokenOf(bff(), login.cookies).accessTokenExpiresAt);
      const since = Date.now();
      const first = await api(bff(), login.cookies);
      expect(first.status).toBe(200);
      const successor = tokenOf(bff(), applySetCookies(login.cookies, first.headers.getSetCookie()));
      const late = await api(bff(), login.cookies);
      expect(late.status).toBe(200);
      const lateSession = tokenOf(bff(), applySetCookies(login.cookies, late.headers.getSetCookie()));
      expect(lateSession.accessToken).toBe(successor.accessToken);
      expect(lateSession.refreshToken).toBe(successor.refreshToken);
      expect((await grantsSince(since)).refreshes).toBe(1);
    });

    it('two sessions refreshing concurrently never exchange tokens: the upstream sees each user\'s own sub', async () => {
      const [alice, bob] = await Promise.all([loginThroughBff(bff(), 'alice'), loginThroughBff(bff(), 'bob')]);
      await waitUntil(Math.max(tokenOf(bff(), alice.cookies).accessTokenExpiresAt, tokenOf(bff(), bob.cookies).accessTokenExpiresAt));
      const since = Date.now();
      const calls: Array<{ who: string; login: LoginResult }> = Array.from({ length: 20 }, (_, i) => (i % 2 ? { who: 'bob', login: bob } : { who: 'alice', login: alice }));
      const results = await Promise.all(calls.map(async ({ who, login }) => {
        const res = await api(bff(), login.cookies, `/api/whoami?caller=${who}`);
        const body = await res.json() as { sub: string; code?: string };
        return { who, status: res.status, sub: body.sub, code: body.code, session: tokenOf(bff(), applySetCookies(login.cookies, res.headers.getSetCookie())) };
      }));
      for (const r of results) {
        expect(r.status, r.code).toBe(200);
        expect(r.sub).toBe(r.who);
        expect(subjectOf(r.session.accessToken)).toBe(r.who);
        expect(r.session.csrf).toBe(r.who === 'alice' ? alice.csrf : bob.csrf);
      }
      for (const entry of await upstreamLog()) {
        const caller = new URL(entry.url, 'http://x').searchParams.get('caller');
        expect(subjectOf(String(entry.headers.authorization).slice('Bearer '.length))).toBe(caller);
      }
      expect(await grantsSince(since)).toEqual({ refreshes: 2, errors: [] });
    });

    it('a revoked refresh token with an expired access token → 401 session_expired, every session cookie cleared, nothing forwarded', async () => {
      const login = await loginThroughBff(bff(), 'alice');
      const session = tokenOf(bff(), login.cookies);
      const revoked = await fetch(`${stack.local.issuer}/token/revocation`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('demo-bff:demo-bff-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: session.refreshToken!, token_type_hint: 'refresh_token' }),
      });
      expect(revoked.status).toBe(200);
      await waitUntil(session.accessTokenExpiresAt);
      await clearUpstreamLog();
      const res = await api(bff(), login.cookies, '/api/echo', { method: 'POST', body: '{"n":1}', csrf: login.csrf });
      expect(res.status).toBe(401);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect((await res.json()).code).toBe('session_expired');
      const cleared = res.headers.getSetCookie();
      expect(clearedNames(cleared).sort()).toEqual([...SESSION_COOKIES].sort());
      for (const line of cleared) expect(line).toMatch(/Path=\/.*HttpOnly; SameSite=Strict/);
      expect(await upstreamLog()).toEqual([]);
    });

    it('cross-component: 10 parallel /api calls and 5 parallel POST /oauth-agent/refresh for one expired session → one grant in total', async () => {
      const login = await loginThroughBff(bff(), 'alice');
      await waitUntil(tokenOf(bff(), login.cookies).accessTokenExpiresAt);
      const since = Date.now();
      const [apiResponses, agentResponses] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, () => api(bff(), login.cookies))),
        Promise.all(Array.from({ length: 5 }, () => callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf }))),
      ]);
      expect(apiResponses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(agentResponses.map((r) => r.status)).toEqual(Array(5).fill(204));
      const tokens = [...apiResponses, ...agentResponses].map((r) => tokenOf(bff(), applySetCookies(login.cookies, r.headers.getSetCookie())).accessToken);
      expect(new Set(tokens).size).toBe(1);
      expect(await grantsSince(since)).toEqual({ refreshes: 1, errors: [] });
    });
  });

  describe.each<Transport>(['node', 'next'])('%s transport: an upstream 401 invalid_token for a token the proxy believed valid', (transport) => {
    const bff = () => stack.bff(transport);

    /** Cookies claiming a long life for a token that has in fact expired (as when the API's clock runs ahead). */
    async function believedValidButExpired(username: string) {
      const login = await loginThroughBff(bff(), username);
      const session = tokenOf(bff(), login.cookies);
      await waitUntil(session.accessTokenExpiresAt + 1); // + the identity server's 1 s clock tolerance
      const now = Math.floor(Date.now() / 1000);
      const lying = { ...session, accessTokenExpiresAt: now + 300, accessTokenIssuedAt: now };
      return { login, session, cookies: applySetCookies(login.cookies, sessionCookiesOf(bff()).write(new CookieJar(login.cookies), lying)) };
    }

    it('GET: refreshed once and retried once; the browser gets the retried 200 and the new cookies', async () => {
      const { session, cookies } = await believedValidButExpired('alice');
      const since = Date.now();
      await clearUpstreamLog();
      const res = await api(bff(), cookies, '/api/whoami');
      expect(res.status).toBe(200);
      expect((await res.json()).sub).toBe('alice');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const renewed = tokenOf(bff(), applySetCookies(cookies, res.headers.getSetCookie()));
      expect(renewed.accessToken).not.toBe(session.accessToken);
      expect((await upstreamLog()).map((e) => e.headers.authorization)).toEqual([`Bearer ${session.accessToken}`, `Bearer ${renewed.accessToken}`]);
      expect(await grantsSince(since)).toEqual({ refreshes: 1, errors: [] });
    });

    it('POST is never sent twice: the API\'s 401 passes through, nothing refreshed', async () => {
      const { login, cookies } = await believedValidButExpired('alice');
      const since = Date.now();
      await clearUpstreamLog();
      const res = await api(bff(), cookies, '/api/echo', { method: 'POST', body: '{"n":1}', csrf: login.csrf });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'invalid_token' });
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await upstreamLog()).toHaveLength(1);
      expect((await grantsSince(since)).refreshes).toBe(0);
    });

    it('a 401 without an invalid_token challenge is the API\'s answer: passed through, nothing refreshed', async () => {
      const login = await loginThroughBff(bff(), 'alice');
      const since = Date.now();
      await clearUpstreamLog();
      const res = await api(bff(), login.cookies, '/api/status/401');
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ status: 401 });
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await upstreamLog()).toHaveLength(1);
      expect((await grantsSince(since)).refreshes).toBe(0);
    });
  });

  it('Node transport: a WebSocket handshake with an expired token is refreshed first; the 101 carries the new cookies', async () => {
    const bff = stack.bff('node');
    const login = await loginThroughBff(bff, 'alice');
    const old = tokenOf(bff, login.cookies);
    await waitUntil(old.accessTokenExpiresAt);
    const { ws, setCookies } = await new Promise<{ ws: WebSocket; setCookies: string[] }>((resolve, reject) => {
      const socket = new WebSocket(`${bff.origin.replace('http', 'ws')}/api/ws`, { headers: { origin: bff.origin, cookie: login.cookies } });
      socket.once('upgrade', (res) => {
        const raw = res.headers['set-cookie'];
        socket.once('open', () => resolve({ ws: socket, setCookies: raw ?? [] }));
      });
      socket.once('unexpected-response', (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
      socket.once('error', reject);
    });
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    ws.send('after refresh');
    expect(await echoed).toBe('after refresh');
    ws.close();
    const renewed = tokenOf(bff, applySetCookies(login.cookies, setCookies));
    expect(renewed.accessToken).not.toBe(old.accessToken);
    const [seen] = await upstreamLog();
    expect(seen!.headers.authorization).toBe(`Bearer ${renewed.accessToken}`);
  });
});

describe(`the end of the grace window (REFRESH_GRACE_SECONDS=${END_GRACE_SECONDS})`, () => {
  let stack: Stack;
  const { api, upstreamLog, clearUpstreamLog, tokenOf } = helpers(() => stack);
  beforeAll(async () => {
    stack = await startStack({ transports: ['node', 'next'], accessTokenTtl: TOKEN_SECONDS, bffEnv: { REFRESH_GRACE_SECONDS: String(END_GRACE_SECONDS) } });
  }, 120_000);
  afterAll(async () => { await stack?.close(); });

  it.each<Transport>(['node', 'next'])('%s: pre-rotation cookies get the successor until it ends, then 401 session_expired, cookies cleared, nothing forwarded', async (transport) => {
    const bff = stack.bff(transport);
    const login = await loginThroughBff(bff, 'alice');
    await waitUntil(tokenOf(bff, login.cookies).accessTokenExpiresAt);
    const since = Date.now();
    const first = await api(bff, login.cookies);
    expect(first.status).toBe(200);
    const successor = tokenOf(bff, applySetCookies(login.cookies, first.headers.getSetCookie()));
    // Polled until the window ends (each in-window answer reuses the successor), never a sleep.
    let afterGrace: Response;
    for (const deadline = since + (END_GRACE_SECONDS + 15) * 1000; ; await sleep(250)) {
      await clearUpstreamLog();
      afterGrace = await api(bff, login.cookies);
      if (afterGrace.status !== 200) break;
      expect(tokenOf(bff, applySetCookies(login.cookies, afterGrace.headers.getSetCookie())).refreshToken).toBe(successor.refreshToken);
      expect(Date.now()).toBeLessThan(deadline);
    }
    expect(Date.now() - since).toBeGreaterThanOrEqual(END_GRACE_SECONDS * 1000 - 50);
    expect(afterGrace.status).toBe(401);
    expect(afterGrace.headers.get('cache-control')).toBe('no-store');
    expect((await afterGrace.json()).code).toBe('session_expired');
    expect(clearedNames(afterGrace.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());
    expect(await upstreamLog()).toEqual([]);
  });
});

describe('transparent refresh while the identity server is down', () => {
  let stack: Stack;
  const { api, upstreamLog, clearUpstreamLog, tokenOf } = helpers(() => stack);
  const logins = {} as Record<Transport, LoginResult>;
  beforeAll(async () => {
    stack = await startStack({ transports: ['node', 'next'], accessTokenTtl: TOKEN_SECONDS });
    for (const t of ['node', 'next'] as const) {
      logins[t] = await loginThroughBff(stack.bff(t), 'alice');
      expect((await api(stack.bff(t), logins[t].cookies)).status).toBe(200); // the sample API has the keys now
    }
    await stack.local.identity.close();
  }, 120_000);
  afterAll(async () => { await stack?.close(); });

  it('inside the margin the still-valid token is forwarded; once expired, 502 authorization_server_error with the cookies untouched and nothing forwarded', async () => {
    for (const t of ['node', 'next'] as const) {
      const bff = stack.bff(t);
      const old = tokenOf(bff, logins[t].cookies);
      await waitUntil(old.accessTokenExpiresAt - TOKEN_SECONDS / 2);
      await clearUpstreamLog();
      const inMargin = await api(bff, logins[t].cookies);
      expect(inMargin.status, t).toBe(200);
      expect(inMargin.headers.getSetCookie(), t).toEqual([]);
      expect((await upstreamLog())[0]!.headers.authorization, t).toBe(`Bearer ${old.accessToken}`);
    }
    for (const t of ['node', 'next'] as const) {
      const bff = stack.bff(t);
      await waitUntil(tokenOf(bff, logins[t].cookies).accessTokenExpiresAt);
      await clearUpstreamLog();
      const expired = await api(bff, logins[t].cookies);
      expect(expired.status, t).toBe(502);
      expect((await expired.json()).code, t).toBe('authorization_server_error');
      expect(expired.headers.getSetCookie(), t).toEqual([]);
      expect(await upstreamLog(), t).toEqual([]);
    }
  });
});
