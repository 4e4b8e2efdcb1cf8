// In-process tier: POST /oauth-agent/refresh and /logout through lib/session's single-flight refresh against the
// scripted identity server — rotation, no rotation, invalid_grant, the identity server down, and the
// OIDC Core §12.2 continuity check on a refreshed ID token.
import { beforeEach, describe, expect, it } from 'vitest';
import { ScriptedIdentityServer } from '../testing/scripted-identity-server';
import { clearedCookies, openSession, startScriptedIdentityServer, TestBrowser, useAgentEnvironment, type AgentResponse } from '../testing/agent-test-kit';

useAgentEnvironment();

const ALL_COOKIES = ['__Host-th-at', '__Host-th-csrf', '__Host-th-id', '__Host-th-rt'];
let idp: ScriptedIdentityServer;
let browser: TestBrowser;
beforeEach(async () => {
  idp = await startScriptedIdentityServer();
  browser = new TestBrowser();
  expect((await browser.login(idp)).status).toBe(200);
});

const refresh = (b = browser) => b.call('POST', '/refresh', { csrf: browser.csrf });
const refreshGrants = () => idp.tokenCalls.filter((c) => c.grantType === 'refresh_token').length;
const expectCode = (res: AgentResponse, status: number, code: string) => expect({ status: res.status, code: res.json().code }).toEqual({ status, code });

describe('refresh', () => {
  it('with rotation: 204, new access and refresh tokens in new cookies, the old refresh token spent, sid and CSRF kept', async () => {
    const before = openSession(browser);
    const res = await refresh();
    expect(res.status).toBe(204);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const after = openSession(browser);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(idp.isRefreshTokenActive(before.refreshToken!)).toBe(false);
    expect(idp.isRefreshTokenActive(after.refreshToken!)).toBe(true);
    expect({ sid: after.sid, csrf: after.csrf, expiresAt: after.expiresAt }).toEqual({ sid: before.sid, csrf: before.csrf, expiresAt: before.expiresAt });
    expect(after.idToken).not.toBe(before.idToken);
    // The new access token is the one the identity server accepts now.
    expect((await browser.call('GET', '/userInfo')).status).toBe(200);
    expect(refreshGrants()).toBe(1);
  });

  it('without rotation: the refresh token stays, the access token is new', async () => {
    idp.rotateRefreshTokens = false;
    const before = openSession(browser);
    expect((await refresh()).status).toBe(204);
    const after = openSession(browser);
    expect(after.refreshToken).toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(idp.isRefreshTokenActive(after.refreshToken!)).toBe(true);
    expect((await refresh()).status).toBe(204);
  });

  it('a refresh response without an ID token keeps the one from login', async () => {
    idp.refreshIdToken = false;
    const before = openSession(browser);
    expect((await refresh()).status).toBe(204);
    expect(openSession(browser).idToken).toBe(before.idToken);
  });

  it('concurrent refreshes of one session make one grant and all succeed (single flight; rotation never sees a reuse)', async () => {
    const tabs = [new TestBrowser(), new TestBrowser(), new TestBrowser()];
    for (const tab of tabs) for (const [n, v] of browser.cookies) tab.cookies.set(n, v);
    const results = await Promise.all(tabs.map((tab) => refresh(tab)));
    expect(results.map((r) => r.status)).toEqual([204, 204, 204]);
    expect(refreshGrants()).toBe(1);
    expect(new Set(tabs.map((t) => openSession(t).refreshToken)).size).toBe(1);
  });

  it('a request still carrying the rotated refresh token within the grace window gets its successors, without a grant', async () => {
    const stale = new TestBrowser();
    for (const [n, v] of browser.cookies) stale.cookies.set(n, v);
    expect((await refresh()).status).toBe(204);
    expect((await refresh(stale)).status).toBe(204);
    expect(refreshGrants()).toBe(1);
    expect(openSession(stale).refreshToken).toBe(openSession(browser).refreshToken);
  });

  it('invalid_grant → 401 session_expired, every session cookie cleared, and the browser is logged out', async () => {
    idp.revokeAllGrants();
    const res = await refresh();
    expectCode(res, 401, 'session_expired');
    expect(clearedCookies(res).sort()).toEqual(ALL_COOKIES);
    expect((await browser.call('GET', '/session')).json()).toEqual({ handled: false, isLoggedIn: false });
  });

  it.each([['unreachable', 'network'], ['answering 503', 503], ['answering 500 with HTML', 500]] as const)(
    'the identity server %s → 502 authorization_server_error, the session kept, and refresh works once it is back',
    async (_name, outage) => {
      const before = openSession(browser);
      idp.tokenEndpointOutage = outage;
      const res = await refresh();
      expectCode(res, 502, 'authorization_server_error');
      expect(res.setCookies).toEqual([]);
      idp.tokenEndpointOutage = false;
      expect((await refresh()).status).toBe(204);
      expect(openSession(browser).refreshToken).not.toBe(before.refreshToken);
    },
  );

  it('another OAuth error at the token endpoint (invalid_client) → 400 authorization_error, the session kept', async () => {
    idp.nextTokenError = { status: 401, error: 'invalid_client' };
    const res = await refresh();
    expectCode(res, 400, 'authorization_error');
    expect(res.setCookies).toEqual([]);
  });
});

describe('OIDC Core §12.2: a refreshed ID token keeps iss and sub', () => {
  it('a refreshed ID token for another subject ends the session: 401 session_expired, cookies cleared', async () => {
    idp.refreshIdToken = { sub: 'mallory' };
    const res = await refresh();
    expectCode(res, 401, 'session_expired');
    expect(clearedCookies(res).sort()).toEqual(ALL_COOKIES);
    expect((await browser.call('GET', '/claims')).status).toBe(401);
  });

  it('a refreshed ID token from another issuer is rejected (400 invalid_request) and the session keeps its tokens', async () => {
    const before = openSession(browser);
    idp.refreshIdToken = { iss: 'https://idp.example/other' };
    const res = await refresh();
    expectCode(res, 400, 'invalid_request');
    expect(res.setCookies).toEqual([]);
    expect(openSession(browser).idToken).toBe(before.idToken);
  });

  it('the same subject passes, and the claims are the new token\'s', async () => {
    idp.refreshIdToken = { sub: 'alice' };
    expect((await refresh()).status).toBe(204);
    expect((await browser.call('GET', '/claims')).json()).toMatchObject({ sub: 'alice' });
  });
});

describe('logout', () => {
  it('revokes the refresh token, clears every cookie and returns the end-session URL (id_token_hint, client_id, post_logout_redirect_uri)', async () => {
    const session = openSession(browser);
    const res = await browser.call('POST', '/logout', { csrf: true });
    expect(res.status).toBe(200);
    const url = new URL(res.json<{ url: string }>().url);
    expect(url.origin + url.pathname).toBe(idp.endSessionUrl);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      id_token_hint: session.idToken, client_id: 'spa-bff', post_logout_redirect_uri: 'https://app.example/',
    });
    expect(idp.revoked).toEqual([session.refreshToken]);
    expect(idp.isRefreshTokenActive(session.refreshToken!)).toBe(false);
    expect(clearedCookies(res).sort()).toEqual(ALL_COOKIES);
    expect((await browser.call('GET', '/session')).json()).toEqual({ handled: false, isLoggedIn: false });
  });

  it('without a revocation endpoint: nothing is revoked, the URL is returned, every cookie cleared', async () => {
    idp.revocationEndpoint = false;
    await startOver();
    const res = await browser.call('POST', '/logout', { csrf: true });
    expect(res.status).toBe(200);
    expect(res.json<{ url: string }>().url).toMatch(/^https:\/\/idp\.example\/session\/end\?/);
    expect(idp.requests.filter((r) => r.includes('/revoke'))).toEqual([]);
    expect(clearedCookies(res).sort()).toEqual(ALL_COOKIES);
  });

  it('without an end_session_endpoint: {"url": null}, and the refresh token is still revoked', async () => {
    idp.endSessionEndpoint = false;
    await startOver();
    const session = openSession(browser);
    const res = await browser.call('POST', '/logout', { csrf: true });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ url: null });
    expect(idp.revoked).toEqual([session.refreshToken]);
    expect(clearedCookies(res).sort()).toEqual(ALL_COOKIES);
  });

  it('works without a live access token, and while the identity server is down (best effort), always clearing every cookie', async () => {
    browser.cookies.delete('__Host-th-at');
    idp.outage = 'network';
    const res = await browser.call('POST', '/logout', { csrf: true });
    expect(res.status).toBe(200);
    expect(clearedCookies(res).sort()).toEqual(ALL_COOKIES);
  });
});

/** A login against the identity server as re-scripted (metadata is read at discovery). */
async function startOver(): Promise<void> {
  const fresh = await startScriptedIdentityServer();
  fresh.revocationEndpoint = idp.revocationEndpoint;
  fresh.endSessionEndpoint = idp.endSessionEndpoint;
  idp = fresh;
  browser = new TestBrowser();
  expect((await browser.login(idp)).status).toBe(200);
}
