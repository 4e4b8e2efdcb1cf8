// CSRF and origin attacks on both transports: every agent route and /api/* under every unsafe
// method without, with a wrong, and with another session's CSRF header; cross-site and same-site
// Fetch Metadata; look-alike origins; simple (preflight-free) content types; method overrides.
// Each refusal is checked against the canaries: nothing upstream, no token used at the IdP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LoginResult } from '../harness/login-through-bff';
import type { Transport } from '../harness/start-bff';
import { CSRF_HEADER, itAuditsEveryResponse, startSecurityStack, TRANSPORTS, type SecurityStack } from './security-stack';

let s: SecurityStack;
beforeAll(async () => { s = await startSecurityStack(); });
afterAll(async () => { await s?.close(); });

const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
const AGENT_ROUTES = ['login/start', 'login/end', 'session', 'userInfo', 'claims', 'refresh', 'logout'] as const;
const CSRF_ROUTES = ['refresh', 'logout'] as const;

describe.each(TRANSPORTS)('CSRF and origin (%s transport)', (transport: Transport) => {
  const bff = () => s.bff(transport);
  let alice: LoginResult;
  let bob: LoginResult;
  beforeAll(async () => {
    alice = await s.login(transport, 'alice');
    bob = await s.login(transport, 'bob');
  });
  beforeEach(async () => { await s.resetCanaries(); });

  const send = (path: string, method: string, headers: Record<string, string>, body?: string) =>
    fetch(`${bff().origin}${path}`, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body ?? '{}' });
  const same = (extra: Record<string, string> = {}) => ({ origin: bff().origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', cookie: alice.cookies, ...extra });

  /** Nothing reached the API, no token was used or revoked at the IdP, no cookie was written. */
  async function expectNoEffect(what: string, res: Response) {
    expect(res.headers.getSetCookie().filter((l) => !/Max-Age=0/.test(l)), `${what}: no cookie set`).toEqual([]);
    expect(await s.upstreamLog(), `${what}: upstream canary`).toEqual([]);
    const used = (await s.idpEvents()).filter((e) => e.type.startsWith('grant') || e.type.startsWith('userinfo') || e.type.startsWith('revocation') || e.type.startsWith('refresh_token'));
    expect(used, `${what}: identity server witness`).toEqual([]);
  }

  const csrfVariants = (): Array<[string, Record<string, string>]> => [
    ['no CSRF header', {}],
    ['a wrong CSRF header', { [CSRF_HEADER]: `${alice.csrf.slice(0, -4)}AAAA` }],
    ['an empty CSRF header', { [CSRF_HEADER]: '' }],
    ['another session\'s CSRF token', { [CSRF_HEADER]: bob.csrf }],
    ['the CSRF token under another header name', { 'x-csrf-token': alice.csrf, 'x-xsrf-token': alice.csrf }],
  ];

  it.each(UNSAFE)('[GHSA-4j63-5v5f-xcc4][OWASP CSRF] /api/* %s without a valid CSRF header → 401, nothing forwarded', async (method) => {
    for (const [what, extra] of csrfVariants()) {
      const res = await send('/api/echo', method, same(extra));
      expect(res.status, what).toBe(401);
      expect((await res.json()).code, what).toBe('unauthorized_request');
      await expectNoEffect(`${method} /api ${what}`, res);
    }
    const ok = await send('/api/echo', method, same({ [CSRF_HEADER]: alice.csrf }));
    expect(ok.status, 'control: the right header passes').toBe(200);
  });

  it.each(UNSAFE)('[GHSA-4j63-5v5f-xcc4][OWASP CSRF] every agent route, %s, without a valid CSRF header → 401 (or 405), no effect', async (method) => {
    for (const route of CSRF_ROUTES) {
      for (const [what, extra] of csrfVariants()) {
        const res = await send(`/oauth-agent/${route}`, method, same(extra));
        const body = await res.json();
        // Only POST is routed; every other method is refused before any guard could matter.
        expect(res.status, `${route} ${what}`).toBe(method === 'POST' ? 401 : 405);
        expect(body.code, `${route} ${what}`).toBe(method === 'POST' ? 'unauthorized_request' : 'method_not_allowed');
        await expectNoEffect(`${method} ${route} ${what}`, res);
      }
    }
    // The session survived all of that.
    const still = await send('/oauth-agent/session', 'GET', same());
    expect((await still.json()).isLoggedIn).toBe(true);
  });

  const crossSite = (): Array<[string, Record<string, string>]> => [
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: `http://sub.${new URL(bff().origin).host}` }],
    ['Sec-Fetch-Site: cross-site with our own Origin', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: none (typed URL) on a POST', { 'sec-fetch-site': 'none' }],
  ];

  it('[W3C Fetch Metadata §2][OWASP CSRF] cross-site and same-site requests to every agent route and /api/* → 401, no effect', async () => {
    for (const [what, extra] of crossSite()) {
      for (const route of AGENT_ROUTES) {
        const method = route === 'session' || route === 'userInfo' || route === 'claims' ? 'GET' : 'POST';
        if (what.includes('none') && method === 'GET') continue; // a typed URL is a legitimate top-level GET
        const body = route === 'login/end' ? JSON.stringify({ pageUrl: `${bff().origin}/?code=x&state=y` }) : undefined;
        const res = await send(`/oauth-agent/${route}`, method, same({ [CSRF_HEADER]: alice.csrf, ...extra }), body);
        expect(res.status, `${route}: ${what}`).toBe(401);
        expect((await res.json()).code, `${route}: ${what}`).toBe('unauthorized_request');
        await expectNoEffect(`${route}: ${what}`, res);
      }
      for (const method of ['GET', ...UNSAFE]) {
        const res = await send('/api/echo', method, same({ [CSRF_HEADER]: alice.csrf, ...extra }));
        expect(res.status, `/api ${method}: ${what}`).toBe(401);
        await expectNoEffect(`/api ${method}: ${what}`, res);
      }
    }
  });

  it('[OWASP CSRF "Verifying origin"][RFC 6454 §5] look-alike and null origins → 401 on every agent route and /api/*, no effect', async () => {
    const { host, port, hostname } = new URL(bff().origin);
    const lookAlikes = [
      `${bff().origin}.evil.com`, `http://${hostname}.evil.com:${port}`, `https://${host}`, `${bff().origin}/`,
      `http://127.0.0.1:${port}`, `http://${hostname}:${Number(port) + 1}`, `http://evil.com/${bff().origin}`,
      `http://${host.toUpperCase()}`, `http://${host}@evil.com`, 'null', '', `${bff().origin}, https://evil.example`,
    ];
    for (const origin of lookAlikes) {
      for (const withFetchMetadata of [false, true]) {
        const headers: Record<string, string> = { origin, 'content-type': 'application/json', cookie: alice.cookies, [CSRF_HEADER]: alice.csrf };
        if (withFetchMetadata) headers['sec-fetch-site'] = 'same-origin';
        else if (origin === '') continue; // an empty Origin with no Fetch Metadata equals "no Origin": covered by the no-header case below
        for (const [path, method] of [['/oauth-agent/login/start', 'POST'], ['/oauth-agent/refresh', 'POST'], ['/oauth-agent/logout', 'POST'], ['/api/echo', 'POST'], ['/api/echo', 'GET']] as const) {
          const res = await send(path, method, headers);
          expect(res.status, `${method} ${path} Origin "${origin}" (Fetch Metadata ${withFetchMetadata})`).toBe(401);
          await expectNoEffect(`${path} Origin ${origin}`, res);
        }
      }
    }
    // Neither Origin nor Sec-Fetch-Site on a state-changing request: no browser sends that cross-site, still refused.
    for (const [path, method] of [['/oauth-agent/refresh', 'POST'], ['/oauth-agent/login/start', 'POST'], ['/api/echo', 'DELETE']] as const) {
      const res = await send(path, method, { 'content-type': 'application/json', cookie: alice.cookies, [CSRF_HEADER]: alice.csrf });
      expect(res.status, `${method} ${path} without Origin`).toBe(401);
      await expectNoEffect(`${path} without Origin`, res);
    }
  });

  it('[OWASP CSRF "simple requests"][Fetch §CORS-safelisted] text/plain and form-encoded bodies on JSON agent endpoints → 400, no effect', async () => {
    const bodies: Array<[string, string, string]> = [
      ['text/plain', '{"extraParams":[]}', 'login/start'],
      ['application/x-www-form-urlencoded', `pageUrl=${encodeURIComponent(`${bff().origin}/?code=x&state=y`)}`, 'login/end'],
      ['text/plain;charset=utf-8', JSON.stringify({ pageUrl: `${bff().origin}/?code=x&state=y` }), 'login/end'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', 'refresh'],
      ['text/plain', '{}', 'logout'],
    ];
    for (const [type, body, route] of bodies) {
      const res = await send(`/oauth-agent/${route}`, 'POST', same({ 'content-type': type, [CSRF_HEADER]: alice.csrf }), body);
      expect(res.status, `${route} as ${type}`).toBe(400);
      expect((await res.json()).code, `${route} as ${type}`).toBe('invalid_request');
      await expectNoEffect(`${route} as ${type}`, res);
    }
    // A cross-site form post (no custom header possible) to the API is refused before the body matters.
    const res = await send('/api/echo', 'POST', { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded', cookie: alice.cookies }, 'a=1');
    expect(res.status).toBe(401);
    await expectNoEffect('cross-site form post to /api', res);
  });

  it('[OWASP WSTG-CONF-06][docs/contract.md §3] X-HTTP-Method-Override never reaches the API and never changes the method the BFF acts on', async () => {
    const overrides = { 'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE' };
    // A GET dressed as a DELETE is a GET: forwarded as GET, without the override, and without needing CSRF.
    const get = await send('/api/echo', 'GET', same(overrides));
    expect(get.status).toBe(200);
    const [seen, ...rest] = await s.upstreamLog();
    expect(rest).toEqual([]);
    expect(seen!.method).toBe('GET');
    for (const name of Object.keys(overrides)) expect(Object.keys(seen!.headers)).not.toContain(name);
    await s.resetCanaries();
    // A DELETE that claims to be a GET still needs the CSRF header.
    const del = await send('/api/echo', 'DELETE', same({ 'x-http-method-override': 'GET', 'x-http-method': 'GET' }));
    expect(del.status).toBe(401);
    await expectNoEffect('DELETE overridden to GET', del);
    // The agent: a logout POST claiming to be GET still needs CSRF; a GET claiming to be POST is not a logout.
    const logout = await send('/oauth-agent/logout', 'POST', same({ 'x-http-method-override': 'GET' }));
    expect(logout.status).toBe(401);
    await expectNoEffect('logout POST overridden to GET', logout);
    const getLogout = await send('/oauth-agent/logout', 'GET', same({ 'x-http-method-override': 'POST', [CSRF_HEADER]: alice.csrf }));
    expect(getLogout.status).toBe(405);
    expect((await getLogout.json()).code).toBe('method_not_allowed');
    await expectNoEffect('logout GET overridden to POST', getLogout);
    const session = await send('/oauth-agent/session', 'GET', same({ 'x-http-method-override': 'DELETE' }));
    expect((await session.json()).isLoggedIn).toBe(true);
  });
});

itAuditsEveryResponse(() => s, 4);
