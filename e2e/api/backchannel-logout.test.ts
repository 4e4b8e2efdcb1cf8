// Contract §7 against the built BFF and the real local identity server: back-channel logout (a real
// end-session at the identity server, then every forged-token rule of Back-Channel Logout 1.0 §2.6),
// and logout ending copies of a session's cookies on both transports.
// The /api and WebSocket assertions need the agent's routes and the proxy to share one denylist, i.e.
// lib/ loaded once per process: with Next's bundles and dist/server.mjs each holding a copy,
// a revocation made by the agent is not seen by proxy.ts or the Node transport.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loginThroughBff, browserHeaders, type LoginResult } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import type { RunningBff, Transport } from '../harness/start-bff';
import { CookieJar as IdpCookieJar, logoutAtIdentityServer } from '../servers/drive-login';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../servers/identity-config';
import { callAgent, clearedNames, idpEvents, openSession, refreshGrants, SESSION_COOKIES } from './agent-test-helpers';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let stack: Stack;

beforeAll(async () => {
  // The identity server's demo-bff client sends its back-channel logout calls to the first BFF (node).
  stack = await startStack({ transports: ['node', 'next'] });
}, 120_000);
afterAll(async () => { await stack?.close(); });

const nowSeconds = () => Math.floor(Date.now() / 1000);
const issuer = () => stack.local.issuer;

/** Claims of a genuine logout token for `sid` (as oidc-provider sends them); each case breaks one rule. */
const genuineClaims = (sid: string): JWTPayload => ({
  iss: issuer(), aud: DEMO_CLIENT_ID, iat: nowSeconds(), exp: nowSeconds() + 120, jti: randomUUID(), sid, events: { [EVENT]: {} },
});

/** Signed with the identity server's own key (its test hook), so only the rule a case breaks is wrong. */
async function signAtIdp(claims: JWTPayload, header: Record<string, unknown> = { typ: 'logout+jwt' }): Promise<string> {
  const res = await fetch(`${issuer()}/__test/logout-token`, { method: 'POST', body: JSON.stringify({ claims, header }) });
  if (res.status !== 200) throw new Error(`signing hook answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

const postLogoutToken = (bff: RunningBff, token: string) => fetch(`${bff.origin}/oauth-agent/backchannel-logout`, {
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }),
});

/** The identity server's session id that the BFF recorded for this session. */
function idpSidOf(bff: RunningBff, login: LoginResult): string {
  const sid = openSession(bff, login.cookies)?.idpSid;
  if (!sid) throw new Error('the session recorded no identity-server sid');
  return sid;
}

async function sessionStatus(bff: RunningBff, cookies: string): Promise<{ status: number; body: { code?: string; isLoggedIn?: boolean }; cleared: string[] }> {
  const res = await callAgent(bff, 'session', { cookies });
  return { status: res.status, body: await res.json() as never, cleared: clearedNames(res.headers.getSetCookie()) };
}

/** Polls (bounded) until the session answers 401 session_expired; returns that answer. */
async function untilSessionEnds(bff: RunningBff, cookies: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await sessionStatus(bff, cookies);
    if (s.status === 401 || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const apiCall = (bff: RunningBff, cookies: string) => fetch(`${bff.origin}/api/data/who`, { headers: browserHeaders(bff, cookies) });

describe('back-channel logout from the local identity server (node BFF registered)', () => {
  const bff = () => stack.bff('node');

  it('a logout at the identity server ends the BFF session: session, /api and refresh answer 401 session_expired and clear every cookie', async () => {
    const idpJar = new IdpCookieJar();
    const login = await loginThroughBff(bff(), 'dora', { idpJar });
    expect((await sessionStatus(bff(), login.cookies)).body.isLoggedIn).toBe(true);
    expect((await apiCall(bff(), login.cookies)).status).toBe(200);

    const discovery = await (await fetch(`${issuer()}/.well-known/openid-configuration`)).json() as { end_session_endpoint: string };
    await logoutAtIdentityServer(discovery.end_session_endpoint, idpJar);

    const ended = await untilSessionEnds(bff(), login.cookies);
    expect(ended.status).toBe(401);
    expect(ended.body.code).toBe('session_expired');
    expect(ended.cleared.sort()).toEqual([...SESSION_COOKIES].sort());

    const api = await apiCall(bff(), login.cookies);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { code: string }).code).toBe('session_expired');
    expect(clearedNames(api.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());

    const before = refreshGrants(await idpEvents(issuer())).length;
    const refresh = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(refresh.status).toBe(401);
    expect(((await refresh.json()) as { code: string }).code).toBe('session_expired');
    expect(refreshGrants(await idpEvents(issuer())).length).toBe(before);
  });

  it('a genuine token ends the session it names with 200, an empty body and no-store; another session stays', async () => {
    const ended = await loginThroughBff(bff(), 'erin');
    const other = await loginThroughBff(bff(), 'erin');
    const res = await postLogoutToken(bff(), await signAtIdp(genuineClaims(idpSidOf(bff(), ended))));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
    expect((await sessionStatus(bff(), ended.cookies)).body.code).toBe('session_expired');
    expect((await sessionStatus(bff(), other.cookies)).body.isLoggedIn).toBe(true);
  });

  it('a replayed jti answers 200 and changes nothing, even when the replay names a live session', async () => {
    const live = await loginThroughBff(bff(), 'fay');
    const jti = randomUUID();
    const first = await postLogoutToken(bff(), await signAtIdp({ ...genuineClaims('no-such-session'), jti }));
    expect(first.status).toBe(200);
    const replay = await postLogoutToken(bff(), await signAtIdp({ ...genuineClaims(idpSidOf(bff(), live)), jti }));
    expect(replay.status).toBe(200);
    expect(await replay.text()).toBe('');
    expect((await sessionStatus(bff(), live.cookies)).body.isLoggedIn).toBe(true);
  });

  it('a token with only sub ends that subject\'s sessions begun up to its iat, not one begun later', async () => {
    const older = await loginThroughBff(bff(), 'gina');
    const createdAt = openSession(bff(), older.cookies)!.createdAt!;
    while (nowSeconds() <= createdAt) await new Promise((r) => setTimeout(r, 50));
    const later = await loginThroughBff(bff(), 'gina');
    const { sid: _sid, ...claims } = genuineClaims('unused');
    const res = await postLogoutToken(bff(), await signAtIdp({ ...claims, sub: 'gina', iat: createdAt }));
    expect(res.status).toBe(200);
    expect((await sessionStatus(bff(), older.cookies)).body.code).toBe('session_expired');
    expect((await sessionStatus(bff(), later.cookies)).body.isLoggedIn).toBe(true);
  });

  describe('forged or malformed tokens: 400 invalid_request in the spec\'s shape, and the session still works', () => {
    let victim: LoginResult;
    let sid: string;
    beforeAll(async () => {
      victim = await loginThroughBff(stack.bff('node'), 'hana');
      sid = idpSidOf(stack.bff('node'), victim);
    });
    const unsigned = (claims: JWTPayload) =>
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'logout+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

    const cases: Array<[string, () => Promise<string>]> = [
      ['wrong iss', () => signAtIdp({ ...genuineClaims(sid), iss: 'https://evil.example' })],
      ['wrong aud', () => signAtIdp({ ...genuineClaims(sid), aud: 'someone-else' })],
      ['wrong alg (the identity server\'s RS256 signature, header says PS256)', async () => {
        const [h, p, s] = (await signAtIdp(genuineClaims(sid))).split('.') as [string, string, string];
        const header = { ...JSON.parse(Buffer.from(h, 'base64url').toString()) as object, alg: 'PS256' };
        return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${p}.${s}`;
      }],
      ['alg none', async () => unsigned(genuineClaims(sid))],
      ['HS256 with the client secret', () => new SignJWT(genuineClaims(sid)).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' })
        .sign(new TextEncoder().encode(DEMO_CLIENT_SECRET))],
      ['no events', async () => { const { events: _e, ...c } = genuineClaims(sid); return signAtIdp(c); }],
      ['events not an object', () => signAtIdp({ ...genuineClaims(sid), events: EVENT })],
      ['event member not an object', () => signAtIdp({ ...genuineClaims(sid), events: { [EVENT]: 'yes' } })],
      ['nonce present', () => signAtIdp({ ...genuineClaims(sid), nonce: 'n-0S6_WzA2Mj' })],
      ['neither sid nor sub', async () => { const { sid: _s, ...c } = genuineClaims(sid); return signAtIdp(c); }],
      ['no jti', async () => { const { jti: _j, ...c } = genuineClaims(sid); return signAtIdp(c); }],
      ['no iat', async () => { const { iat: _i, ...c } = genuineClaims(sid); return signAtIdp(c); }],
      ['expired', () => signAtIdp({ ...genuineClaims(sid), iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })],
      ['iat in the future', () => signAtIdp({ ...genuineClaims(sid), iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 })],
      ['foreign typ (an ID token\'s JWT)', () => signAtIdp(genuineClaims(sid), { typ: 'JWT' })],
      ['bad signature', async () => {
        const [h, p, s] = (await signAtIdp(genuineClaims(sid))).split('.') as [string, string, string];
        const bytes = Buffer.from(s, 'base64url');
        bytes[0] = bytes[0]! ^ 0xff;
        return `${h}.${p}.${bytes.toString('base64url')}`;
      }],
      ['unknown key', async () => {
        const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
        const kid = (await exportJWK(publicKey)).n!.slice(0, 8);
        return new SignJWT(genuineClaims(sid)).setProtectedHeader({ alg: 'RS256', kid, typ: 'logout+jwt' }).sign(privateKey);
      }],
      ['an encrypted (5-part) token', async () => 'a.b.c.d.e'],
      ['not a JWT', async () => 'garbage'],
    ];

    it.each(cases)('%s', async (_name, make) => {
      const res = await postLogoutToken(stack.bff('node'), await make());
      expect(res.status).toBe(400);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.json() as { error: string; error_description: string };
      expect(body.error).toBe('invalid_request');
      expect(typeof body.error_description).toBe('string');
      expect((await sessionStatus(stack.bff('node'), victim.cookies)).body.isLoggedIn).toBe(true);
    });

    it('a request without a form logout_token, or with a body over 16 KiB, answers 400; a GET 405', async () => {
      const origin = stack.bff('node').origin;
      const json = await fetch(`${origin}/oauth-agent/backchannel-logout`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ logout_token: 'x' }),
      });
      expect(json.status).toBe(400);
      expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
      const empty = await fetch(`${origin}/oauth-agent/backchannel-logout`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'other=1',
      });
      expect(empty.status).toBe(400);
      const huge = await fetch(`${origin}/oauth-agent/backchannel-logout`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `logout_token=${'a'.repeat(20 * 1024)}`,
      });
      expect(huge.status).toBe(400);
      expect((await fetch(`${origin}/oauth-agent/backchannel-logout`)).status).toBe(405);
      expect((await sessionStatus(stack.bff('node'), victim.cookies)).body.isLoggedIn).toBe(true);
    });
  });

  it('closes the open WebSockets of a session that ends', async () => {
    const login = await loginThroughBff(bff(), 'ivy');
    const ws = new WebSocket(`${bff().origin.replace('http', 'ws')}/api/ws`, { headers: { origin: bff().origin, cookie: login.cookies } });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('ping'));
      ws.once('message', (m) => resolve(m.toString()));
      ws.once('error', reject);
    });
    expect(echoed).toBe('ping');
    const closed = new Promise<boolean>((resolve) => {
      ws.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000).unref();
    });
    expect((await postLogoutToken(bff(), await signAtIdp(genuineClaims(idpSidOf(bff(), login))))).status).toBe(200);
    expect(await closed).toBe(true);
  });
});

describe.each(['node', 'next'] as Transport[])('logout ends every copy of the session\'s cookies (%s transport)', (transport) => {
  it('cookies replayed after logout answer 401 session_expired on /session, /claims and /api, and nothing reaches the API', async () => {
    const bff = stack.bff(transport);
    const login = await loginThroughBff(bff, 'jude');
    expect((await apiCall(bff, login.cookies)).status).toBe(200);
    const out = await callAgent(bff, 'logout', { cookies: login.cookies, csrf: login.csrf });
    expect(out.status).toBe(200);

    for (const path of ['session', 'claims'] as const) {
      const res = await callAgent(bff, path, { cookies: login.cookies });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('session_expired');
    }
    await fetch(`${stack.local.apiUrl}/__log`, { method: 'DELETE' });
    const api = await apiCall(bff, login.cookies);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { code: string }).code).toBe('session_expired');
    expect(clearedNames(api.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());
    expect(await (await fetch(`${stack.local.apiUrl}/__log`)).json()).toEqual([]);
  });
});
