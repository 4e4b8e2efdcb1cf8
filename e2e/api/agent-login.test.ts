// OAuth Agent API, docs/contract.md §2: login, session, userInfo, claims, refresh and logout on both
// transports, against the real local identity server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';
import { applySetCookies, cookieNames } from '../harness/browser-cookies';
import { loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import type { Transport } from '../harness/start-bff';
import { callAgent, clearedNames, idpEvents, openSession, refreshGrants, SESSION_COOKIES, subjectOf, type IdpEvent } from './agent-test-helpers';

const codeRedemptions = (events: IdpEvent[]) => events.filter((e) => e.type === 'grant.success' && e.grantType === 'authorization_code');

let stack: Stack;
// This suite reads the classic authorization request URL (its parameters, its state), so it runs with
// OIDC_PAR=never; logins with PAR (the default against the local identity server) are e2e/api/par.test.ts.
beforeAll(async () => { stack = await startStack({ transports: ['node', 'next'], bffEnv: { OIDC_PAR: 'never' } }); });
afterAll(async () => { await stack?.close(); });

describe.each<Transport>(['node', 'next'])('OAuth Agent login and session (%s transport)', (transport) => {
  const bff = () => stack.bff(transport);
  /** login/start, then the identity server's login form: the browser's cookies and the page URL it lands on. */
  const authorizeAtIdentityServer = async (username: string) => {
    const start = await callAgent(bff(), 'login/start');
    const cookies = applySetCookies('', start.headers.getSetCookie());
    const pageUrl = await loginAtIdentityServer((await start.json()).authorizationRequestUrl, username);
    return { cookies, pageUrl };
  };

  it('login/start returns an authorization URL with PKCE S256, state and nonce, and a login-transaction cookie', async () => {
    const res = await callAgent(bff(), 'login/start', { body: { extraParams: [{ key: 'prompt', value: 'login' }, { key: 'ui_locales', value: 'en' }] } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const url = new URL((await res.json()).authorizationRequestUrl);
    expect(url.origin).toBe(stack.local.issuer);
    const p = url.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe('demo-bff');
    expect(p.get('redirect_uri')).toBe(`${bff().origin}/`);
    expect(p.get('scope')).toBe('openid profile offline_access');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get('state')).toBeTruthy();
    expect(p.get('nonce')).toBeTruthy();
    expect(p.get('prompt')).toBe('login');
    expect(p.get('ui_locales')).toBe('en');
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-th-login-[A-Za-z0-9_-]{16}=/);
    expect(cookie).toMatch(/Max-Age=600/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).not.toContain(p.get('state')!);
  });

  it('a disallowed extraParams key, malformed JSON or a non-JSON body is 400 invalid_request', async () => {
    for (const body of [{ extraParams: [{ key: 'redirect_uri', value: 'https://evil.example/' }] }, '{not json', { extraParams: 'prompt' }]) {
      const res = await callAgent(bff(), 'login/start', { body });
      expect(res.status).toBe(400);
      expect((await res.json()).code).toBe('invalid_request');
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    // A simple-content-type POST (what a cross-site form can send without preflight) is refused.
    const res = await callAgent(bff(), 'login/start', {
      headers: { origin: bff().origin, 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain' }, body: '{}',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('invalid_request');
  });

  it('full login: session cookies with the right attributes, csrf and accessTokenExpiresIn, no token in the body', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    expect(login.body).toMatchObject({ handled: true, isLoggedIn: true });
    expect(login.body.accessTokenExpiresIn).toBeGreaterThan(250);
    expect(login.body.accessTokenExpiresIn).toBeLessThanOrEqual(300);
    for (const name of SESSION_COOKIES) expect(cookieNames(login.cookies)).toContain(name);
    expect(cookieNames(login.cookies).some((n) => n.includes('-login-'))).toBe(false); // transaction cookie cleared
    for (const line of login.setCookies.filter((l) => !/Max-Age=0/.test(l))) {
      expect(line).toMatch(/; Path=\/;/);
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Strict/);
      expect(line).toMatch(/; Secure/);
      expect(line).not.toMatch(/Domain=/i);
    }
    const session = openSession(bff(), login.cookies)!;
    expect(JSON.stringify(login.body)).not.toContain(session.accessToken);
    expect(JSON.stringify(login.body)).not.toContain(session.refreshToken);
  });

  it('an authenticated reload reports handled:false, isLoggedIn:true and the same csrf; session says the same', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    const reload = await callAgent(bff(), 'login/end', { cookies: login.cookies, body: { pageUrl: `${bff().origin}/orders?x=1` } });
    expect(reload.status).toBe(200);
    const body = await reload.json();
    expect(body).toMatchObject({ handled: false, isLoggedIn: true, csrf: login.csrf });
    expect(typeof body.accessTokenExpiresIn).toBe('number');
    const session = await callAgent(bff(), 'session', { cookies: login.cookies });
    expect(session.headers.get('cache-control')).toBe('no-store');
    expect(await session.json()).toMatchObject({ handled: false, isLoggedIn: true, csrf: login.csrf });
    const anonymous = await callAgent(bff(), 'login/end', { body: { pageUrl: `${bff().origin}/` } });
    expect(await anonymous.json()).toEqual({ handled: false, isLoggedIn: false });
  });

  it('userInfo and claims answer for the logged-in user', async () => {
    const login = await loginThroughBff(bff(), 'carol');
    const userInfo = await callAgent(bff(), 'userInfo', { cookies: login.cookies });
    expect(userInfo.status).toBe(200);
    expect(userInfo.headers.get('cache-control')).toBe('no-store');
    expect(await userInfo.json()).toMatchObject({ sub: 'carol', name: 'Carol' });
    const claims = await callAgent(bff(), 'claims', { cookies: login.cookies });
    expect(claims.status).toBe(200);
    expect(await claims.json()).toMatchObject({ sub: 'carol', iss: stack.local.issuer, aud: 'demo-bff' });
  });

  it('refresh: 204 with new cookies carrying new tokens, witnessed as one refresh_token grant', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    const before = refreshGrants(await idpEvents(stack.local.issuer)).length;
    const res = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(res.status).toBe(204);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const after = applySetCookies(login.cookies, res.headers.getSetCookie());
    const [old, fresh] = [openSession(bff(), login.cookies)!, openSession(bff(), after)!];
    expect(fresh.accessToken).not.toBe(old.accessToken);
    expect(fresh.refreshToken).not.toBe(old.refreshToken);
    expect(fresh.csrf).toBe(old.csrf);
    expect(refreshGrants(await idpEvents(stack.local.issuer)).length).toBe(before + 1);
  });

  it('logout: end-session URL, every cookie cleared, refresh token revoked, old cookies useless', async () => {
    const login = await loginThroughBff(bff(), 'alice');
    const res = await callAgent(bff(), 'logout', { cookies: login.cookies, csrf: login.csrf });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const url = new URL((await res.json()).url);
    expect(url.origin).toBe(stack.local.issuer);
    expect(url.searchParams.get('client_id')).toBe('demo-bff');
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${bff().origin}/`);
    expect(url.searchParams.get('id_token_hint')).toBe(openSession(bff(), login.cookies)!.idToken);
    expect(clearedNames(res.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());
    expect(applySetCookies(login.cookies, res.headers.getSetCookie())).toBe('');
    expect((await idpEvents(stack.local.issuer)).some((e) => e.type === 'revocation.success')).toBe(true);
    // A copy of the old cookies kept by an attacker no longer refreshes: the refresh token was revoked.
    const replay = await callAgent(bff(), 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(replay.status).toBe(401);
    expect((await replay.json()).code).toBe('session_expired');
  });

  it('two logins started at once in two tabs both complete', async () => {
    const start = async () => {
      const res = await callAgent(bff(), 'login/start');
      return { url: (await res.json()).authorizationRequestUrl as string, setCookies: res.headers.getSetCookie() };
    };
    const [a, b] = await Promise.all([start(), start()]);
    const cookies = applySetCookies('', [...a.setCookies, ...b.setCookies]); // one browser, both cookies
    const [pageA, pageB] = await Promise.all([loginAtIdentityServer(a.url, 'alice'), loginAtIdentityServer(b.url, 'bob')]);
    const endA = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl: pageA } });
    const endB = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl: pageB } });
    expect(endA.status).toBe(200);
    expect(endB.status).toBe(200);
    expect((await endA.json()).handled).toBe(true);
    expect((await endB.json()).handled).toBe(true);
  });

  it('a replayed authorization response never redeems the code again nor starts another session; the transaction is single-use', async () => {
    const { cookies, pageUrl } = await authorizeAtIdentityServer('alice');
    const first = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl } });
    expect(first.status).toBe(200);
    const firstSession = openSession(bff(), applySetCookies(cookies, first.headers.getSetCookie()))!;
    const codeGrantsBefore = codeRedemptions(await idpEvents(stack.local.issuer)).length;
    // The same response with the (kept) transaction cookie: the transaction is remembered as finished,
    // the code is not sent to the identity server again; a repeat right after gets the same session.
    const replay = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl } });
    expect(replay.status).toBe(200);
    expect(openSession(bff(), applySetCookies(cookies, replay.headers.getSetCookie()))?.sid).toBe(firstSession.sid);
    expect(codeRedemptions(await idpEvents(stack.local.issuer)).length).toBe(codeGrantsBefore);
    // ... and the identity server saw no replay, so the session's grant is intact.
    const session = applySetCookies(cookies, first.headers.getSetCookie());
    expect((await callAgent(bff(), 'refresh', { cookies: session, csrf: firstSession.csrf })).status).toBe(204);
    // Without the transaction cookie or the session, the response is worth nothing.
    const browser = applySetCookies(cookies, first.headers.getSetCookie());
    const again = await callAgent(bff(), 'login/end', { cookies: browser.replace(/__Host-th-(at|rt|id|csrf)=[^;]*(; )?/g, ''), body: { pageUrl } });
    expect(again.status).toBe(400);
    expect((await again.json()).code).toBe('invalid_request');
    expect(again.headers.getSetCookie().some((l) => /^__Host-th-(at|rt|id|csrf)=[^;]/.test(l))).toBe(false);
  });

  it('5 concurrent login/end calls for one authorization response: all 200 with the same session, one code redemption, the grant still refreshes', async () => {
    const { cookies, pageUrl } = await authorizeAtIdentityServer('erin');
    const before = codeRedemptions(await idpEvents(stack.local.issuer)).length;
    // A page whose page-load logic runs several times at once (React StrictMode runs it twice).
    const answers = await Promise.all(Array.from({ length: 5 }, () => callAgent(bff(), 'login/end', { cookies, body: { pageUrl } })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const bodies = await Promise.all(answers.map((r) => r.json()));
    for (const body of bodies) expect(body).toMatchObject({ handled: true, isLoggedIn: true, csrf: bodies[0].csrf });
    const browsers = answers.map((r) => applySetCookies(cookies, r.headers.getSetCookie()));
    const sessions = browsers.map((c) => openSession(bff(), c));
    expect(new Set(sessions.map((x) => x?.sid)).size).toBe(1);
    expect(new Set(sessions.map((x) => x?.refreshToken)).size).toBe(1);
    expect(subjectOf(sessions[0]!.accessToken)).toBe('erin');
    const events = await idpEvents(stack.local.issuer);
    expect(codeRedemptions(events).length - before, 'code redemptions at the identity server').toBe(1);
    expect(events.filter((e) => e.type === 'grant.error' && e.grantType === 'authorization_code')).toEqual([]);
    // Whichever answer the browser kept, the grant is valid: it refreshes.
    const refreshed = await callAgent(bff(), 'refresh', { cookies: browsers[4]!, csrf: bodies[0].csrf });
    expect(refreshed.status).toBe(204);
    // A later repeat from the browser that now holds the session: told so, nothing redeemed or set.
    const later = await callAgent(bff(), 'login/end', { cookies: applySetCookies(browsers[4]!, refreshed.headers.getSetCookie()), body: { pageUrl } });
    expect(later.status).toBe(200);
    expect(await later.json()).toMatchObject({ handled: true, isLoggedIn: true, csrf: bodies[0].csrf });
    expect(later.headers.getSetCookie().filter((l) => !/Max-Age=0/.test(l))).toEqual([]);
    expect(codeRedemptions(await idpEvents(stack.local.issuer)).length - before).toBe(1);
  });

  it('200 abandoned login/starts keep at most 3 pending transactions: the site never answers 431, the newest still logs in', async () => {
    let cookies = '';
    const urls: string[] = [];
    for (let i = 0; i < 200; i++) {
      const res = await callAgent(bff(), 'login/start', { cookies });
      expect(res.status).toBe(200);
      urls.push((await res.json()).authorizationRequestUrl);
      cookies = applySetCookies(cookies, res.headers.getSetCookie());
      expect(cookieNames(cookies).filter((n) => n.startsWith('__Host-th-login-')).length).toBeLessThanOrEqual(3);
    }
    const page = await fetch(`${bff().origin}/`, { headers: { cookie: cookies } });
    expect(page.status).toBe(200);
    // The oldest were dropped; the newest finishes normally.
    const dropped = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl: await loginAtIdentityServer(urls[0]!, 'frank') } });
    expect(dropped.status).toBe(400);
    expect((await dropped.json()).code).toBe('invalid_request');
    const newest = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl: await loginAtIdentityServer(urls[199]!, 'frank') } });
    expect(newest.status).toBe(200);
    expect((await newest.json()).handled).toBe(true);
  });

  it('login/end without the transaction cookie, with a foreign one, or a pageUrl off origin is 400 invalid_request', async () => {
    const { cookies, pageUrl } = await authorizeAtIdentityServer('alice');
    const other = await callAgent(bff(), 'login/start'); // a different transaction's cookie
    const foreign = applySetCookies('', other.headers.getSetCookie());
    for (const [c, body] of [
      ['', { pageUrl }],
      [foreign, { pageUrl }],
      [cookies, { pageUrl: pageUrl.replace(bff().origin, 'https://evil.example') }],
      [cookies, { pageUrl: 'not a url' }],
      [cookies, {}],
    ] as const) {
      const res = await callAgent(bff(), 'login/end', { cookies: c, body });
      expect(res.status).toBe(400);
      expect((await res.json()).code).toBe('invalid_request');
      expect(res.headers.getSetCookie().some((l) => /^__Host-th-(at|rt|id|csrf)=[^;]/.test(l))).toBe(false);
    }
    // The state check: the transaction cookie of this state with another state in the URL.
    const tampered = new URL(pageUrl);
    tampered.searchParams.set('state', 'x'.repeat(43));
    const res = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl: tampered.href } });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('invalid_request');
  });

  it('a front-channel error is passed on by code (401 for login_required, 400 otherwise), the transaction cleared', async () => {
    for (const [error, status] of [['login_required', 401], ['access_denied', 400]] as const) {
      const start = await callAgent(bff(), 'login/start');
      const cookies = applySetCookies('', start.headers.getSetCookie());
      const state = new URL((await start.json()).authorizationRequestUrl).searchParams.get('state')!;
      const page = new URL(`${bff().origin}/`);
      page.search = new URLSearchParams({ error, error_description: '<script>alert(1)</script>', state, iss: stack.local.issuer }).toString();
      const res = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl: page.href } });
      expect(res.status).toBe(status);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const text = await res.text();
      expect(JSON.parse(text).code).toBe(error);
      expect(text).not.toContain('script');
      expect(applySetCookies(cookies, res.headers.getSetCookie())).toBe('');
    }
  });

  it('wrong method → 405 method_not_allowed JSON; unknown agent path → 404 not_found JSON', async () => {
    for (const [path, method] of [['login/start', 'GET'], ['refresh', 'GET'], ['session', 'POST'], ['logout', 'DELETE'], ['claims', 'PUT']]) {
      const res = await callAgent(bff(), path!, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect((await res.json()).code).toBe('method_not_allowed');
    }
    for (const path of ['nope', 'login', 'login/start/extra', 'userinfo']) {
      const res = await callAgent(bff(), path, { method: 'GET' });
      expect(res.status).toBe(404);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect((await res.json()).code).toBe('not_found');
    }
    const bare = await fetch(`${bff().origin}/oauth-agent`, { redirect: 'manual' });
    expect(bare.status).toBe(404);
    expect((await bare.json()).code).toBe('not_found');
  });

  it('logs the events, never a token, code, state or cookie value', async () => {
    const { cookies, pageUrl } = await authorizeAtIdentityServer('dave');
    const end = await callAgent(bff(), 'login/end', { cookies, body: { pageUrl } });
    const loggedIn = applySetCookies(cookies, end.headers.getSetCookie());
    const { csrf } = await end.json();
    const refreshed = await callAgent(bff(), 'refresh', { cookies: loggedIn, csrf });
    const after = applySetCookies(loggedIn, refreshed.headers.getSetCookie());
    await callAgent(bff(), 'refresh', { cookies: after, csrf: 'wrong' });
    await callAgent(bff(), 'logout', { cookies: after, csrf });
    const logs = bff().logs.join('\n');
    for (const event of ['login_started', 'login_completed', 'token_refreshed', 'csrf_rejected', 'logout']) expect(logs).toContain(`"event":"${event}"`);
    const params = new URL(pageUrl).searchParams;
    const secrets = [params.get('code')!, params.get('state')!, csrf, ...[openSession(bff(), loggedIn)!, openSession(bff(), after)!]
      .flatMap((s) => [s.accessToken, s.refreshToken!, s.idToken!]), ...after.split('; ').map((c) => c.slice(c.indexOf('=') + 1))];
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
