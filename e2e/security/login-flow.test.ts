// Attacks on the login flow, both transports: forged or replayed authorization responses, missing
// or foreign transaction cookies, reflected error descriptions, off-origin page URLs, a foreign
// `iss` (RFC 9207). Every case ends in the contract's 4xx with no session cookie set.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import type { Transport } from '../harness/start-bff';
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';
import { itAuditsEveryResponse, sessionCookiesSet, startSecurityStack, TRANSPORTS, type SecurityStack } from './security-stack';

let s: SecurityStack;
beforeAll(async () => { s = await startSecurityStack(); });
afterAll(async () => { await s?.close(); });

describe.each(TRANSPORTS)('login flow attacks (%s transport)', (transport: Transport) => {
  const bff = () => s.bff(transport);
  const headers = (cookies = '') => ({ origin: bff().origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', ...(cookies ? { cookie: cookies } : {}) });
  beforeEach(async () => { await s.resetCanaries(); });

  /** login/start, then the identity server's login: the browser's cookies and the redirect back. */
  async function authorize(username = 'alice') {
    const start = await fetch(`${bff().origin}/oauth-agent/login/start`, { method: 'POST', headers: headers() });
    expect(start.status).toBe(200);
    const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
    const cookies = applySetCookies('', start.headers.getSetCookie());
    const pageUrl = await loginAtIdentityServer(authorizationRequestUrl, username, new IdpCookieJar());
    return { cookies, pageUrl: new URL(pageUrl) };
  }
  const end = (pageUrl: string, cookies: string) =>
    fetch(`${bff().origin}/oauth-agent/login/end`, { method: 'POST', headers: headers(cookies), body: JSON.stringify({ pageUrl }) });
  async function expectRefused(res: Response, code: string, status = 400) {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    expect(JSON.parse(text).code).toBe(code);
    expect(sessionCookiesSet(res.headers.getSetCookie()), 'no session cookie').toEqual([]);
    expect(res.headers.get('cache-control')).toBe('no-store');
    return text;
  }
  const codeGrants = async () => (await s.idpEvents()).filter((e) => e.type === 'grant.success' && e.grantType === 'authorization_code');

  it('[RFC 6749 §10.12][RFC 9700 §4.7.1] state mismatch → 400 invalid_request, the code is never redeemed', async () => {
    const { cookies, pageUrl } = await authorize();
    const forged = new URL(pageUrl);
    forged.searchParams.set('state', `${pageUrl.searchParams.get('state')}x`);
    await expectRefused(await end(forged.href, cookies), 'invalid_request');
    forged.searchParams.delete('state');
    forged.searchParams.set('state', '');
    await expectRefused(await end(forged.href, cookies), 'invalid_request');
    expect(await codeGrants()).toEqual([]);
  });

  it('[CVE-2023-27490][RFC 9700 §4.7.1 (login CSRF)] missing or foreign login-transaction cookie → 400 invalid_request', async () => {
    const a = await authorize('mallory');
    await expectRefused(await end(a.pageUrl.href, ''), 'invalid_request'); // the attacker's code in a victim's browser
    const b = await authorize('alice');
    const [aName, aValue] = a.cookies.split('=') as [string, string];
    const bValue = b.cookies.slice(b.cookies.indexOf('=') + 1);
    // B's valid transaction under A's cookie name: decrypts, but belongs to another state.
    await expectRefused(await end(a.pageUrl.href, `${aName}=${bValue}`), 'invalid_request');
    await expectRefused(await end(a.pageUrl.href, `${aName}=${aValue.slice(0, -6)}`), 'invalid_request');
    await expectRefused(await end(a.pageUrl.href, `${aName}=${aValue}; ${aName}=${aValue}`), 'invalid_request');
    expect(await codeGrants()).toEqual([]);
  });

  it('[RFC 6749 §4.1.2][RFC 9700 §4.2.4][docs/contract.md §2] code replay (even with the used transaction cookie kept) never redeems the code again nor creates another session', async () => {
    const { cookies, pageUrl } = await authorize();
    const first = await end(pageUrl.href, cookies);
    expect(first.status).toBe(200);
    s.audit.harvest(bff(), first.headers.getSetCookie());
    const { csrf } = await first.json() as { csrf: string };
    expect(first.headers.getSetCookie().some((l) => l.startsWith(cookies.split('=')[0]!) && /Max-Age=0/.test(l)), 'transaction cookie cleared').toBe(true);
    const loggedIn = applySetCookies(cookies, first.headers.getSetCookie());
    // A browser that obeyed the removal and holds the session: the same session is reported, nothing set.
    const repeat = await end(pageUrl.href, loggedIn);
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toMatchObject({ handled: true, isLoggedIn: true, csrf });
    expect(sessionCookiesSet(repeat.headers.getSetCookie())).toEqual([]);
    // Neither session nor transaction cookie: nothing.
    await expectRefused(await end(pageUrl.href, loggedIn.split('; ').filter((c) => !c.startsWith('__Host-th-')).join('; ')), 'invalid_request');
    // Someone who kept the transaction cookie: at most the same session (same CSRF token), never a new one.
    const replay = await end(pageUrl.href, cookies);
    if (replay.status === 200) expect((await replay.json() as { csrf: string }).csrf).toBe(csrf);
    else expect(sessionCookiesSet(replay.headers.getSetCookie())).toEqual([]);
    s.audit.harvest(bff(), replay.headers.getSetCookie());
    expect((await codeGrants()).length).toBe(1);
    // The identity server saw no replay, so it revoked nothing: the session still refreshes.
    const refreshed = await fetch(`${bff().origin}/oauth-agent/refresh`, { method: 'POST', headers: { ...headers(loggedIn), 'x-th-csrf': csrf } });
    expect(refreshed.status).toBe(204);
    s.audit.harvest(bff(), refreshed.headers.getSetCookie());
  });

  it('[RFC 6749 §4.1.2.1][CWE-79] error=access_denied with an HTML/script error_description → 400 access_denied, never reflected', async () => {
    const { cookies, pageUrl } = await authorize();
    const payload = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>';
    for (const error of ['access_denied', '<script>alert(1)</script>', 'login_required']) {
      const forged = new URL(`${bff().origin}/`);
      forged.searchParams.set('error', error);
      forged.searchParams.set('error_description', payload);
      forged.searchParams.set('error_uri', 'javascript:alert(1)');
      forged.searchParams.set('state', pageUrl.searchParams.get('state')!);
      const res = await end(forged.href, cookies);
      const expected = error === 'login_required' ? ['login_required', 401] as const : error === 'access_denied' ? ['access_denied', 400] as const : ['authorization_error', 400] as const;
      const text = await expectRefused(res, expected[0], expected[1]);
      expect(text).not.toMatch(/<script|<img|onerror|javascript:|alert/i);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
    }
  });

  it('[RFC 9700 §4.11][CWE-601] a pageUrl on another origin → 400 invalid_request, whatever it carries', async () => {
    const { cookies, pageUrl } = await authorize();
    const { host, port } = new URL(bff().origin);
    const query = pageUrl.search;
    for (const other of [`https://evil.example/${query}`, `${bff().origin}.evil.com/${query}`, `http://${host}@evil.example/${query}`,
      `//evil.example/${query}`, `/${query}`, `javascript:alert(1)//${query}`, `http://127.0.0.1:${port}/${query}`, `https://${host}/${query}`, `data:text/html,${query}`]) {
      await expectRefused(await end(other, cookies), 'invalid_request');
    }
    expect(await codeGrants()).toEqual([]);
    // Control: the genuine page URL still completes (the transaction survived the refusals).
    const ok = await end(pageUrl.href, cookies);
    expect(ok.status).toBe(200);
    s.audit.harvest(bff(), ok.headers.getSetCookie());
  });

  it('[RFC 9207 §2.4][RFC 9700 §4.4 (mix-up)] an authorization response whose iss differs, or lacks iss → 400 invalid_request', async () => {
    const { cookies, pageUrl } = await authorize();
    for (const iss of ['https://evil.example', `${s.stack.local.issuer}/`, s.stack.local.issuer.replace('127.0.0.1', 'localhost'), null]) {
      const forged = new URL(pageUrl);
      if (iss === null) forged.searchParams.delete('iss'); else forged.searchParams.set('iss', iss);
      await expectRefused(await end(forged.href, cookies), 'invalid_request');
    }
    expect(await codeGrants()).toEqual([]);
  });
});

itAuditsEveryResponse(() => s, 2);
