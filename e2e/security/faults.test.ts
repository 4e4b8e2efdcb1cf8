// Faults, both transports: the identity server down during each back-channel step (502, cookies
// untouched) and recovery once it is back on the same port; upstream down, slow or resetting
// mid-response; cookie-key rotation and a BFF restart keeping sessions.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { freePort } from '../harness/free-port';
import type { LoginResult } from '../harness/login-through-bff';
import { randomCookieKey, startBff, type Transport } from '../harness/start-bff';
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';
import { startIdentityServer } from '../servers/identity-server';
import { CSRF_HEADER, itAuditsEveryResponse, startSecurityStack, TRANSPORTS, type SecurityStack } from './security-stack';

const UPSTREAM_TIMEOUT_MS = 1000;
let s: SecurityStack;
let deadPort: number;
let routes: string;
beforeAll(async () => {
  deadPort = await freePort();
  s = await startSecurityStack({
    routes: (api) => (routes = `/api/down=http://127.0.0.1:${deadPort},/api=${api}`),
    bffEnv: { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) },
  });
});
afterAll(async () => { await s?.close(); });

const same = (origin: string, cookies = '', extra: Record<string, string> = {}) =>
  ({ origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', ...(cookies ? { cookie: cookies } : {}), ...extra });

/** Stops a transport's BFF and starts it again on the same port (same issuer and routes), optionally with other keys. */
async function restartBff(t: Transport, cookieKeys: string) {
  const old = s.bff(t);
  await old.stop();
  s.audit.retire(old);
  const fresh = await startBff({
    transport: t, port: old.port, issuer: s.stack.local.issuer, apiRoutes: routes, cookieKeys, env: { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) },
  });
  s.stack.bffs.splice(s.stack.bffs.indexOf(old), 1, fresh);
  s.audit.watch(fresh);
  return fresh;
}

describe.each(TRANSPORTS)('upstream faults (%s transport)', (transport: Transport) => {
  const bff = () => s.bff(transport);
  let alice: LoginResult;
  beforeAll(async () => { alice = await s.login(transport, 'alice'); });
  beforeEach(async () => { await s.resetCanaries(); });
  const get = (path: string) => fetch(`${bff().origin}${path}`, { headers: same(bff().origin, alice.cookies) });

  async function expectStillServing() {
    expect((await fetch(`${bff().origin}/healthz`)).status).toBe(200);
    const ok = await get('/api/status/200');
    expect(ok.status).toBe(200);
  }

  it('[docs/contract.md §3 "502 bad_gateway"] nothing listening upstream → 502 bad_gateway without the upstream address; the server keeps serving', async () => {
    const res = await get('/api/down/x');
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text).code).toBe('bad_gateway');
    expect(text + JSON.stringify([...res.headers])).not.toContain(String(deadPort));
    await expectStillServing();
  });

  it('[docs/contract.md §3 "504 gateway_timeout"] an upstream slower than UPSTREAM_TIMEOUT_MS → 504 gateway_timeout; the server keeps serving', async () => {
    const started = Date.now();
    const res = await get(`/api/slow?ms=${UPSTREAM_TIMEOUT_MS * 5}`);
    expect(res.status).toBe(504);
    expect((await res.json()).code).toBe('gateway_timeout');
    expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS * 4);
    await expectStillServing();
  });

  /** GET /api/reset: the upstream sends headers and part of the body, then resets its connection. */
  async function readReset(): Promise<{ status: number; outcome: 'ended' | 'cut' | 'hung'; code?: unknown }> {
    const res = await fetch(`${bff().origin}/api/reset`, { headers: same(bff().origin, alice.cookies), signal: AbortSignal.timeout(4000) });
    if (res.status !== 200) return { status: res.status, outcome: 'ended', code: ((await res.json()) as { code?: unknown }).code };
    const outcome = await res.text().then(() => 'ended' as const, (err: Error) => (err.name === 'TimeoutError' ? 'hung' as const : 'cut' as const));
    return { status: res.status, outcome };
  }

  it('[RFC 9112 §9.6][docs/contract.md §3] an upstream reset mid-response never looks complete (502, or a cut stream); the server keeps serving', async () => {
    const { status, outcome } = await readReset();
    if (status === 502) expect(outcome).toBe('ended');
    else {
      expect(status).toBe(200);
      expect(outcome, 'a truncated body must never end cleanly').not.toBe('ended');
    }
    await expectStillServing();
  });

  // Headers already went out, so the only honest signal left is to cut the browser's stream too
  // (never leave it waiting on a socket per reset).
  it('[RFC 9112 §9.6] after an upstream reset the BFF cuts the browser\'s stream at once instead of leaving it open', async () => {
    const { status, outcome, code } = await readReset();
    // Either the reset came before the BFF sent headers (a complete 502 bad_gateway answer) or after
    // (the browser's stream is cut); never a hang, never another status.
    expect([200, 502], `status ${status}`).toContain(status);
    if (status === 200) expect(outcome).toBe('cut');
    else expect([outcome, code]).toEqual(['ended', 'bad_gateway']);
  });

  it('[docs/contract.md §3] an upstream\'s own 5xx passes through untouched, and never carries its Set-Cookie', async () => {
    const res = await get('/api/status/503');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 503 });
    const cookie = await get('/api/set-cookie');
    expect(cookie.status).toBe(200);
    expect(cookie.headers.getSetCookie()).toEqual([]);
  });
});


/** A new identity server on the same port (new keys, no sessions), closed with the stack. */
async function restartIdentityServer(): Promise<void> {
  const restarted = await startIdentityServer({
    port: s.stack.local.identity.port, bffOrigins: s.stack.bffs.map((b) => b.origin), apiAudience: s.stack.local.apiUrl, accessTokenTtl: 300,
  });
  s.stack.local.identity = restarted;
  const closeLocal = s.stack.local.close;
  s.stack.local.close = async () => { await restarted.close(); await closeLocal(); };
}

describe('BFF restart and cookie-key rotation', () => {
  it.each(TRANSPORTS)('[ASVS 5.0 V11.2.2][RFC 6265bis] a restart with the same COOKIE_KEYS on the same port keeps sessions (%s)', async (t) => {
    const login = await s.login(t, 'dave');
    const bff = await restartBff(t, s.bff(t).cookieKeys);
    const res = await fetch(`${bff.origin}/api/whoami`, { headers: same(bff.origin, login.cookies) });
    expect(res.status).toBe(200);
    expect((await res.json()).sub).toBe('dave');
  }, 60_000);

  it.each(TRANSPORTS)('[NIST SP 800-57 §5.3 (key rotation)] a new key listed first keeps existing sessions; refreshed cookies use the new key; a retired key logs out (%s)', async (t) => {
    const login = await s.login(t, 'erin');
    const oldKeys = s.bff(t).cookieKeys;
    const newKey = randomCookieKey();
    let bff = await restartBff(t, `${newKey},${oldKeys}`);
    const api = await fetch(`${bff.origin}/api/whoami`, { headers: same(bff.origin, login.cookies) });
    expect(api.status).toBe(200);
    const refresh = await fetch(`${bff.origin}/oauth-agent/refresh`, { method: 'POST', headers: same(bff.origin, login.cookies, { [CSRF_HEADER]: login.csrf }) });
    expect(refresh.status).toBe(204);
    const rotated = applySetCookies(login.cookies, refresh.headers.getSetCookie());
    // Old key retired: the re-sealed cookies still work, the old ones no longer do.
    bff = await restartBff(t, newKey);
    expect((await fetch(`${bff.origin}/api/whoami`, { headers: same(bff.origin, rotated) })).status).toBe(200);
    const stale = await fetch(`${bff.origin}/api/whoami`, { headers: same(bff.origin, login.cookies) });
    expect(stale.status).toBe(401);
    expect(await s.upstreamLog().then((l) => l.filter((r) => r.path === '/whoami').length)).toBeGreaterThan(0);
  }, 90_000);
});

// Last: a restarted identity server has new keys, which the sample API only learns after its own JWKS cooldown.
describe('identity server down, then back on the same port', () => {
  const sessions = new Map<Transport, LoginResult>();
  const pending = new Map<Transport, { cookies: string; pageUrl: string }>();
  beforeAll(async () => {
    for (const t of TRANSPORTS) {
      sessions.set(t, await s.login(t, 'alice'));
      const start = await fetch(`${s.bff(t).origin}/oauth-agent/login/start`, { method: 'POST', headers: same(s.bff(t).origin) });
      const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
      pending.set(t, { cookies: applySetCookies('', start.headers.getSetCookie()), pageUrl: await loginAtIdentityServer(authorizationRequestUrl, 'bob', new IdpCookieJar()) });
    }
    await s.stack.local.identity.close();
  });

  it.each(TRANSPORTS)('[docs/contract.md §2 "502 authorization_server_error"][RFC 9700 §4.14] login/start, login/end, refresh, userInfo → 502, session cookies untouched (%s)', async (t) => {
    const bff = s.bff(t);
    const { cookies, csrf } = sessions.get(t)!;
    const calls: Array<[string, string, string, string | undefined]> = [
      ['login/start', 'POST', '', undefined],
      ['login/end', 'POST', pending.get(t)!.cookies, JSON.stringify({ pageUrl: pending.get(t)!.pageUrl })],
      ['refresh', 'POST', cookies, undefined],
      ['userInfo', 'GET', cookies, undefined],
    ];
    for (const [path, method, cookie, body] of calls) {
      const res = await fetch(`${bff.origin}/oauth-agent/${path}`, { method, headers: same(bff.origin, cookie, { [CSRF_HEADER]: csrf }), body });
      const text = await res.text();
      // login/start needs no back-channel call once the metadata is cached: it may still answer.
      if (path === 'login/start' && res.status === 200) {
        expect(new URL(JSON.parse(text).authorizationRequestUrl).origin).toBe(s.stack.local.issuer);
        continue;
      }
      expect(res.status, `${path}: ${text}`).toBe(502);
      expect(JSON.parse(text).code, path).toBe('authorization_server_error');
      expect(text, path).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|fetch failed/);
      // Only the used login transaction may be removed; no session cookie is set or cleared.
      expect(res.headers.getSetCookie().filter((l) => !l.startsWith('__Host-th-login-')), path).toEqual([]);
    }
    const session = await fetch(`${bff.origin}/oauth-agent/session`, { headers: same(bff.origin, cookies) });
    expect((await session.json()).isLoggedIn, 'the session is still there').toBe(true);
  });

  it('recovery: once the identity server is back on the same port (new keys, no sessions), a new login works on both transports and the old cookies still open', async () => {
    await restartIdentityServer();
    for (const t of TRANSPORTS) {
      const fresh = await s.login(t, 'carol');
      const user = await fetch(`${s.bff(t).origin}/oauth-agent/userInfo`, { headers: same(s.bff(t).origin, fresh.cookies) });
      expect(user.status, t).toBe(200);
      expect((await user.json()).sub).toBe('carol');
      // The pre-outage session was never cleared: its cookies still decrypt (the new IdP will not
      // honour its tokens, which is the identity server's call, not an outage side effect).
      const session = await fetch(`${s.bff(t).origin}/oauth-agent/session`, { headers: same(s.bff(t).origin, sessions.get(t)!.cookies) });
      expect((await session.json()).isLoggedIn, t).toBe(true);
    }
  }, 60_000);

  it('[RFC 7517 §5 (key rollover)] the identity server restarted with new keys and no outage seen: at most one login fails (400), the next works', async () => {
    await s.stack.local.identity.close();
    await restartIdentityServer();
    for (const t of TRANSPORTS) {
      // The cached JWKS lacks the new key; the BFF then rediscovers, so a retry succeeds.
      const first = await s.login(t, 'frank').then(() => 'ok', (err: Error) => err.message);
      if (first !== 'ok') expect(first).toMatch(/login\/end answered 400/);
      await s.login(t, 'frank');
    }
  }, 60_000);
});

itAuditsEveryResponse(() => s, 4);
