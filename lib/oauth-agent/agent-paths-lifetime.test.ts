// In-process tier with a non-default configuration: OIDC_REDIRECT_PATH, OIDC_POST_LOGOUT_REDIRECT_PATH,
// COOKIE_PREFIX, client_secret_post, and SESSION_MAX_AGE_SECONDS (a refresh never extends the session).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ScriptedIdentityServer } from '../testing/scripted-identity-server';
import { clearedCookies, openSession, PUBLIC_ORIGIN, startScriptedIdentityServer, TestBrowser, useAgentEnvironment } from '../testing/agent-test-kit';

const SESSION_MAX_AGE = 120;
useAgentEnvironment({
  OIDC_REDIRECT_PATH: '/auth/callback', OIDC_POST_LOGOUT_REDIRECT_PATH: '/signed-out', COOKIE_PREFIX: 'shop',
  OIDC_TOKEN_AUTH_METHOD: 'client_secret_post', SESSION_MAX_AGE_SECONDS: String(SESSION_MAX_AGE),
});

let idp: ScriptedIdentityServer;
let browser: TestBrowser;
beforeEach(async () => {
  idp = await startScriptedIdentityServer();
  browser = new TestBrowser();
});
afterEach(() => { vi.useRealTimers(); });

const maxAges = (lines: string[]) => lines.map((l) => Number(/Max-Age=(\d+)/.exec(l)?.[1]));

describe('non-default redirect and post-logout paths', () => {
  it('the authorization request and the code redemption use PUBLIC_ORIGIN + OIDC_REDIRECT_PATH', async () => {
    expect(idp.clients.get('spa-bff')!.redirectUris).toEqual([`${PUBLIC_ORIGIN}/auth/callback`]);
    const started = await browser.startLogin();
    const url = new URL(started.json<{ authorizationRequestUrl: string }>().authorizationRequestUrl);
    expect(url.searchParams.get('redirect_uri')).toBe(`${PUBLIC_ORIGIN}/auth/callback`);
    const pageUrl = idp.authorize(url.href);
    expect(pageUrl.startsWith(`${PUBLIC_ORIGIN}/auth/callback?`)).toBe(true);
    // The IdP answers invalid_grant unless redirect_uri at the token endpoint equals the authorized one.
    const ended = await browser.call('POST', '/login/end', { body: { pageUrl } });
    expect(ended.status).toBe(200);
    expect(idp.tokenCalls).toEqual([{ grantType: 'authorization_code', clientId: 'spa-bff', authMethod: 'client_secret_post' }]);
  });

  it('logout returns post_logout_redirect_uri = PUBLIC_ORIGIN + OIDC_POST_LOGOUT_REDIRECT_PATH', async () => {
    const ended = await browser.login(idp);
    expect(ended.status).toBe(200);
    const res = await browser.call('POST', '/logout', { csrf: true });
    expect(new URL(res.json<{ url: string }>().url).searchParams.get('post_logout_redirect_uri')).toBe(`${PUBLIC_ORIGIN}/signed-out`);
  });

  it('COOKIE_PREFIX names the cookies and the CSRF header', async () => {
    await browser.login(idp);
    expect([...browser.cookies.keys()].sort()).toEqual(['__Host-shop-at', '__Host-shop-csrf', '__Host-shop-id', '__Host-shop-rt']);
    expect((await browser.call('POST', '/refresh', { headers: { 'x-th-csrf': browser.csrf! } })).status).toBe(401);
    expect((await browser.call('POST', '/refresh', { csrf: true })).status).toBe(204);
  });
});

describe('SESSION_MAX_AGE_SECONDS', () => {
  it('cookies live until the session\'s absolute end, a refresh never moves that end, and after it the session is gone', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    const login = await browser.login(idp);
    expect(maxAges(login.setCookies.filter((l) => !l.includes('-login-')))).toEqual([SESSION_MAX_AGE, SESSION_MAX_AGE, SESSION_MAX_AGE, SESSION_MAX_AGE]);
    const end = openSession(browser).expiresAt;
    expect(end).toBe(Math.floor(t0 / 1000) + SESSION_MAX_AGE);

    vi.setSystemTime(t0 + 100_000);
    const refreshed = await browser.call('POST', '/refresh', { csrf: true });
    expect(refreshed.status).toBe(204);
    // The identity server's new access token lives 300 s; the session's cookies still end at t0 + 120 s.
    for (const age of maxAges(refreshed.setCookies)) expect(age).toBeLessThanOrEqual(SESSION_MAX_AGE - 100);
    expect(openSession(browser).expiresAt).toBe(end);
    expect(openSession(browser).accessTokenExpiresAt).toBeGreaterThan(end);

    vi.setSystemTime(t0 + (SESSION_MAX_AGE + 1) * 1000);
    const late = await browser.call('POST', '/refresh', { csrf: true });
    expect({ status: late.status, code: late.json().code }).toEqual({ status: 401, code: 'unauthorized_request' });
    expect(clearedCookies(late).length).toBe(4);
    expect(idp.tokenCalls.filter((c) => c.grantType === 'refresh_token')).toHaveLength(1);
  });

  it('a browser that keeps the cookies past the end (ignoring Max-Age) is refused: the sealed values expire too', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    await browser.login(idp);
    vi.setSystemTime(t0 + (SESSION_MAX_AGE + 1) * 1000);
    const res = await browser.call('GET', '/session');
    expect(res.status).toBe(401);
    expect((await browser.call('GET', '/session')).json()).toEqual({ handled: false, isLoggedIn: false });
  });
});
