// Big tokens (docs/contract.md §7 "Big tokens"): the local identity server issues ~12 KB access
// tokens (a groups-style claim). With a store the session's tokens live there, encrypted under a key
// only the browser's cookie holds, and the cookies stay small; login, /api, claims, userInfo, both
// kinds of refresh and logout work on both transports, and a second instance serves the session from
// the store alone. Without a store the tokens are chunked into cookies as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applySetCookies } from '../harness/browser-cookies';
import { freePort } from '../harness/free-port';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startRedis, type RunningRedis } from '../harness/redis-server';
import { startStack, type Stack } from '../harness/stack';
import { startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { callAgent, CSRF_HEADER, idpEvents, openSession, refreshGrants } from './agent-test-helpers';

const TOKEN_BYTES = 12_000;
// Long enough for a login on a loaded machine; the proactive refresh is due after half of it.
const TOKEN_SECONDS = 16;
const PREFIX = 'big:';

const bytesOf = (cookieHeader: string) => Buffer.byteLength(cookieHeader, 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitUntil = async (unixSeconds: number) => { const ms = unixSeconds * 1000 + 100 - Date.now(); if (ms > 0) await sleep(ms); };

async function callApi(bff: RunningBff, cookies: string, origin = bff): Promise<{ status: number; sub?: string; bearer?: string; setCookies: string[] }> {
  const res = await fetch(`${bff.origin}/api/echo`, { headers: browserHeaders(origin, cookies) });
  const body = await res.json() as { sub?: string; headers?: { authorization?: string }; code?: string };
  return { status: res.status, sub: body.sub, bearer: body.headers?.authorization, setCookies: res.headers.getSetCookie() };
}

describe('with a store: big sessions keep their tokens in it', () => {
  let redis: RunningRedis;
  let stack: Stack;
  const vaultEntries = async () => (await redis.dump()).filter((e) => e.key.startsWith(`${PREFIX}t:`));

  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({
      transports: ['node', 'next'], accessTokenBytes: TOKEN_BYTES, accessTokenTtl: TOKEN_SECONDS,
      bffEnv: { SESSION_STORE_URL: redis.url, SESSION_STORE_PREFIX: PREFIX },
    });
  }, 120_000);
  afterAll(async () => {
    try { await stack?.close(); } finally { await redis?.stop(); }
  });

  /** Another Node instance behind `a`'s public origin: same keys and store, nothing in its memory. */
  const startSecondInstance = async (a: RunningBff) => startBff({
    transport: 'node', port: await freePort(), issuer: stack.local.issuer, apiRoutes: `/api=${stack.local.apiUrl}`,
    cookieKeys: stack.cookieKeys, env: { PUBLIC_ORIGIN: a.origin, SESSION_STORE_URL: redis.url, SESSION_STORE_PREFIX: PREFIX },
  });

  describe.each<Transport>(['node', 'next'])('%s transport', (transport) => {
    const bff = () => stack.bff(transport);

    it('login, /api, claims, userInfo, agent refresh, proxy refresh and logout with 12 KB access tokens; cookies stay small and hold no token', async () => {
      const before = (await vaultEntries()).length;
      const login = await loginThroughBff(bff(), 'alice');
      expect(bytesOf(login.cookies)).toBeLessThan(1024); // 8 KiB is the limit; a reference is a few hundred bytes
      const opened = openSession(bff(), login.cookies)!;
      expect(opened.stored).toBeDefined();
      expect([opened.accessToken, opened.refreshToken, opened.idToken]).toEqual(['', undefined, undefined]);

      const first = await callApi(bff(), login.cookies);
      expect(first).toMatchObject({ status: 200, sub: 'alice' });
      expect(first.bearer!.length).toBeGreaterThan(TOKEN_BYTES * 0.9);
      const stored = await vaultEntries();
      expect(stored.length).toBe(before + 1);
      for (const { value } of stored) expect(value).not.toContain(first.bearer!.slice('Bearer '.length, 'Bearer '.length + 200));

      const claims = await callAgent(bff(), 'claims', { cookies: login.cookies });
      expect(claims.status).toBe(200);
      expect((await claims.json()).sub).toBe('alice');
      const userInfo = await callAgent(bff(), 'userInfo', { cookies: login.cookies });
      expect(userInfo.status).toBe(200);
      expect((await userInfo.json()).sub).toBe('alice');

      // The agent's refresh: a new store entry, new small cookies, a new token upstream.
      const refresh = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
      expect(refresh.status).toBe(204);
      let cookies = applySetCookies(login.cookies, refresh.headers.getSetCookie());
      expect(bytesOf(cookies)).toBeLessThan(1024);
      expect(openSession(bff(), cookies)!.stored).not.toEqual(opened.stored);
      const second = await callApi(bff(), cookies);
      expect(second).toMatchObject({ status: 200, sub: 'alice' });
      expect(second.bearer).not.toBe(first.bearer);

      // The proxy's own refresh, once the token is inside the margin (half its life).
      const expiresAt = openSession(bff(), cookies)!.accessTokenExpiresAt;
      await waitUntil(expiresAt - TOKEN_SECONDS / 2);
      const grantsBefore = refreshGrants(await idpEvents(stack.local.issuer)).length;
      const third = await callApi(bff(), cookies);
      expect(third).toMatchObject({ status: 200, sub: 'alice' });
      expect(third.setCookies.length).toBeGreaterThan(0);
      expect(third.bearer).not.toBe(second.bearer);
      expect(refreshGrants(await idpEvents(stack.local.issuer)).length).toBe(grantsBefore + 1);
      cookies = applySetCookies(cookies, third.setCookies);
      expect(bytesOf(cookies)).toBeLessThan(1024);
      expect((await callApi(bff(), cookies)).bearer).toBe(third.bearer);

      // Logout removes the session's entry at once; its cookies replayed afterwards are refused.
      const current = openSession(bff(), cookies)!;
      const session = await (await callAgent(bff(), 'session', { cookies })).json() as { csrf: string };
      const entriesBefore = (await vaultEntries()).length;
      const logout = await callAgent(bff(), 'logout', { cookies, csrf: session.csrf });
      expect(logout.status).toBe(200);
      expect((await vaultEntries()).length).toBe(entriesBefore - 1);
      expect(current.stored).toBeDefined();
      const replay = await callApi(bff(), cookies);
      expect(replay.status).toBe(401);
    });
  });

  it('a WebSocket of a big session (Node transport) is relayed with its stored token', async () => {
    const bff = stack.bff('node');
    const login = await loginThroughBff(bff, 'erin');
    expect(openSession(bff, login.cookies)!.stored).toBeDefined();
    const ws = new WebSocket(`${bff.origin.replace('http', 'ws')}/api/ws`, { headers: { origin: bff.origin, cookie: login.cookies } });
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        ws.once('open', () => ws.send('ping'));
        ws.once('message', (m) => resolve(m.toString()));
        ws.once('error', reject);
      });
      expect(echoed).toBe('ping');
    } finally {
      ws.close();
    }
  });

  it('a second instance (same origin, keys and store, nothing in its memory) serves the session from the store, and ends it when the entry is gone', async () => {
    const a = stack.bff('node');
    const b = await startSecondInstance(a);
    try {
      const login = await loginThroughBff(a, 'bob');
      expect(openSession(a, login.cookies)!.stored).toBeDefined();
      const onB = await callApi(b, login.cookies, a);
      expect(onB).toMatchObject({ status: 200, sub: 'bob' });
      expect((await callApi(a, login.cookies)).bearer).toBe(onB.bearer);

      // An entry lost before b ever read it (a store flushed or failed over): b cannot serve the
      // session, and ends it with every session cookie cleared.
      const lost = await loginThroughBff(a, 'carol');
      for (const { key } of await vaultEntries()) await redis.command(['DEL', key]);
      const res = await fetch(`${b.origin}/api/echo`, { headers: browserHeaders(a, lost.cookies) });
      expect(res.status).toBe(401);
      expect((await res.json()).code).toBe('session_expired');
      expect(res.headers.getSetCookie().filter((l) => /Max-Age=0/.test(l)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await b.stop();
    }
  });

  // Last in this block: it stops the store.
  it('while the store is down: an instance that never opened the session answers 500 server_error and keeps its cookies, the one that did keeps serving, logout still ends it', async () => {
    const a = stack.bff('node');
    const b = await startSecondInstance(a);
    try {
      const login = await loginThroughBff(a, 'dave');
      expect(openSession(a, login.cookies)!.stored).toBeDefined();
      await redis.stop();
      const res = await fetch(`${b.origin}/api/echo`, { headers: browserHeaders(a, login.cookies) });
      expect(res.status).toBe(500);
      expect((await res.json()).code).toBe('server_error');
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(await callApi(a, login.cookies)).toMatchObject({ status: 200, sub: 'dave' });

      const logout = await fetch(`${b.origin}/oauth-agent/logout`, { method: 'POST', headers: browserHeaders(a, login.cookies, { [CSRF_HEADER]: login.csrf }) });
      expect(logout.status).toBe(200);
      expect(logout.headers.getSetCookie().filter((l) => /Max-Age=0/.test(l)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await b.stop();
    }
  });
});

describe('without a store: big sessions are chunked into cookies as before', () => {
  let stack: Stack;
  // Smaller than above so that login/end's Set-Cookie lines fit the test's own HTTP client (undici
  // stops at 16 KiB of response headers; browsers take far more), yet over 8 KiB of cookies.
  beforeAll(async () => {
    stack = await startStack({ transports: ['node'], accessTokenBytes: 9_000 });
  }, 120_000);
  afterAll(async () => { await stack?.close(); });

  it('login and /api work with the tokens in (chunked) cookies over 8 KiB', async () => {
    const bff = stack.bff('node');
    const login = await loginThroughBff(bff, 'alice');
    expect(bytesOf(login.cookies)).toBeGreaterThan(8 * 1024);
    const opened = openSession(bff, login.cookies)!;
    expect(opened.stored).toBeUndefined();
    expect(opened.accessToken.length).toBeGreaterThan(8_000);
    const res = await callApi(bff, login.cookies);
    expect(res).toMatchObject({ status: 200, sub: 'alice', bearer: `Bearer ${opened.accessToken}` });
  });
});
