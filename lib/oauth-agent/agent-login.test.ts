// In-process tier: login/start, login/end, session, claims and userInfo against the scripted
// identity server (real discovery, JWKS, signed ID tokens, PKCE checks; real cookie crypto).
import { beforeEach, describe, expect, it } from 'vitest';
import { ScriptedIdentityServer } from '../testing/scripted-identity-server';
import { CLIENT_ID, ISSUER, PUBLIC_ORIGIN, sessionCookieNames, startScriptedIdentityServer, TestBrowser, useAgentEnvironment } from '../testing/agent-test-kit';

useAgentEnvironment();

let idp: ScriptedIdentityServer;
let browser: TestBrowser;
beforeEach(async () => {
  idp = await startScriptedIdentityServer();
  browser = new TestBrowser();
});

describe('login through the scripted identity server', () => {
  it('login/start returns an authorization request with PKCE S256, state and nonce, and a transaction cookie', async () => {
    const res = await browser.startLogin([{ key: 'prompt', value: 'login' }]);
    const url = new URL(res.json<{ authorizationRequestUrl: string }>().authorizationRequestUrl);
    expect(url.origin + url.pathname).toBe(`${ISSUER}/authorize`);
    for (const p of ['state', 'nonce', 'code_challenge']) expect(url.searchParams.get(p)).toMatch(/^[\w-]{20,}$/);
    expect(Object.fromEntries([...url.searchParams].filter(([k]) => !['state', 'nonce', 'code_challenge'].includes(k)))).toEqual({
      client_id: CLIENT_ID, redirect_uri: `${PUBLIC_ORIGIN}/`, scope: 'openid profile offline_access', response_type: 'code',
      code_challenge_method: 'S256', prompt: 'login',
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.setCookies).toHaveLength(1);
    expect(res.setCookies[0]).toMatch(/^__Host-th-login-[\w-]{16}=.+; Path=\/; Max-Age=600; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('login/end redeems the code (client_secret_basic, PKCE verified by the IdP) and sets the four session cookies', async () => {
    const res = await browser.login(idp);
    expect(res.status).toBe(200);
    const body = res.json<{ handled: boolean; isLoggedIn: boolean; csrf: string; accessTokenExpiresIn: number }>();
    expect(body).toMatchObject({ handled: true, isLoggedIn: true });
    expect(body.csrf).toMatch(/^[\w-]{40,}$/);
    expect(body.accessTokenExpiresIn).toBeGreaterThan(290);
    expect(idp.tokenCalls).toEqual([{ grantType: 'authorization_code', clientId: CLIENT_ID, authMethod: 'client_secret_basic' }]);
    expect(sessionCookieNames(browser).sort()).toEqual(['__Host-th-at', '__Host-th-csrf', '__Host-th-id', '__Host-th-rt']);
    expect([...browser.cookies.keys()].some((n) => n.includes('login-'))).toBe(false);
    // No token reaches JavaScript: the body holds none of what the IdP issued.
    expect(res.body).not.toMatch(/eyJ|access_token|refresh_token/);
  });

  it('session, claims and userInfo report the logged-in user', async () => {
    await browser.login(idp, { sub: 'bob' });
    const session = await browser.call('GET', '/session');
    expect(session.json()).toMatchObject({ handled: false, isLoggedIn: true, csrf: browser.csrf });
    const claims = await browser.call('GET', '/claims');
    expect(claims.json()).toMatchObject({ iss: ISSUER, sub: 'bob', aud: CLIENT_ID });
    const info = await browser.call('GET', '/userInfo');
    expect(info.status).toBe(200);
    expect(info.json()).toEqual({ sub: 'bob', name: 'User bob', email: 'bob@example.com' });
  });

  it('without session cookies, session and login/end without a response report isLoggedIn: false', async () => {
    expect((await browser.call('GET', '/session')).json()).toEqual({ handled: false, isLoggedIn: false });
    const end = await browser.call('POST', '/login/end', { body: { pageUrl: `${PUBLIC_ORIGIN}/orders` } });
    expect(end.json()).toEqual({ handled: false, isLoggedIn: false });
  });

  it('a replayed authorization response redeems nothing again: a duplicate with its transaction cookie shares the one session (docs/contract.md §2)', async () => {
    const started = await browser.startLogin();
    const transactionCookies = new Map(browser.cookies);
    const pageUrl = idp.authorize(started.json<{ authorizationRequestUrl: string }>().authorizationRequestUrl);
    const first = await browser.call('POST', '/login/end', { body: { pageUrl } });
    expect(first.status).toBe(200);
    const tokenRequests = () => idp.requests.filter((r) => r.startsWith('POST') && r.includes('token')).length;
    const redeemed = tokenRequests();
    const duplicate = new TestBrowser();
    for (const [n, v] of transactionCookies) duplicate.cookies.set(n, v);
    const again = await duplicate.call('POST', '/login/end', { body: { pageUrl } });
    // React StrictMode's second page-load call: the same session, and the code never reaches the IdP again.
    expect(again.status).toBe(200);
    expect(again.json().csrf).toBe(first.json().csrf);
    expect(tokenRequests()).toBe(redeemed);
    // Without the transaction cookie, the same response logs nobody in.
    const stranger = await new TestBrowser().call('POST', '/login/end', { body: { pageUrl } });
    expect(stranger.status).toBe(400);
    expect(tokenRequests()).toBe(redeemed);
  });
});

describe('max_age and auth_time (OIDC Core §3.1.2.1, §3.1.3.7 step 11)', () => {
  it('accepts an ID token whose auth_time is within max_age', async () => {
    const res = await browser.login(idp, { extraParams: [{ key: 'max_age', value: '60' }], authTime: Math.floor(Date.now() / 1000) - 30 });
    expect(res.status).toBe(200);
  });

  it('rejects an ID token whose auth_time is older than max_age: 400 invalid_request, no session', async () => {
    const res = await browser.login(idp, { extraParams: [{ key: 'max_age', value: '60' }], authTime: Math.floor(Date.now() / 1000) - 3600 });
    expect(res.status).toBe(400);
    expect(res.json().code).toBe('invalid_request');
    expect(sessionCookieNames(browser)).toEqual([]);
  });

  it('rejects an ID token without auth_time when max_age was requested', async () => {
    const res = await browser.login(idp, { extraParams: [{ key: 'max_age', value: '60' }], omitAuthTime: true });
    expect(res.status).toBe(400);
    expect(res.json().code).toBe('invalid_request');
  });

  it('without max_age, an old auth_time is fine', async () => {
    expect((await browser.login(idp, { authTime: Math.floor(Date.now() / 1000) - 86_400 * 30 })).status).toBe(200);
  });
});
