// Unit tests of the client library with a scripted fetch (no server): CSRF header placement,
// single-flight refresh, retry-once, session expiry, same-origin refusal, address-bar cleaning and
// cross-tab coordination.
import { describe, expect, it, vi } from 'vitest';
import { TokenHandlerError, createTokenHandlerClient, type TokenHandlerClientOptions } from './token-handler-client';
import { deferred, fakeBrowser, fakeWindow, json, ORIGIN, scriptedFetch, tick } from './test-doubles';

const LOGGED_IN = { handled: false, isLoggedIn: true, csrf: 'csrf-value-1' };

/** An API's RFC 6750 §3.1 answer to an expired access token, passed through by the proxy. */
const expiredAtApi = () => new Response('{}', {
  status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="expired"' },
});

function client(routes: Parameters<typeof scriptedFetch>[0], opts: Partial<TokenHandlerClientOptions> & { href?: string } = {}) {
  const server = scriptedFetch({
    'POST /oauth-agent/login/end': () => json(200, LOGGED_IN),
    'GET /oauth-agent/claims': () => json(200, { sub: 'alice' }),
    'POST /oauth-agent/refresh': () => new Response(null, { status: 204 }),
    ...routes,
  });
  const win = fakeWindow(opts.href ?? `${ORIGIN}/orders/42`);
  const th = createTokenHandlerClient({
    fetch: server.fetch, location: win.location, history: win.history, crossTab: opts.crossTab ?? fakeBrowser().tab(), ...opts,
  });
  return { th, server, win };
}

async function rejection(p: Promise<unknown>): Promise<TokenHandlerError> {
  const err = await p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);
  expect(err).toBeInstanceOf(TokenHandlerError);
  return err as TokenHandlerError;
}

describe('CSRF header', () => {
  it('is sent on unsafe methods only, with the value from login/end', async () => {
    const { th, server } = client({ '* /api/orders': () => json(200, {}) });
    await th.onPageLoad();
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']) await th.fetch('/api/orders', { method });
    const api = server.calls.filter((c) => c.path === '/api/orders');
    expect(Object.fromEntries(api.map((c) => [c.method, c.headers.get('x-th-csrf')]))).toEqual({
      GET: null, HEAD: null, OPTIONS: null, POST: 'csrf-value-1', PUT: 'csrf-value-1', PATCH: 'csrf-value-1', DELETE: 'csrf-value-1',
    });
  });

  it('is named after the configured cookie prefix', async () => {
    const { th, server } = client({ 'POST /api/echo': () => json(200, {}) }, { cookiePrefix: 'app' });
    await th.onPageLoad();
    await th.fetch('/api/echo', { method: 'POST', body: '{}' });
    expect(server.calls.at(-1)!.headers.get('x-app-csrf')).toBe('csrf-value-1');
    expect(server.calls.at(-1)!.headers.get('x-th-csrf')).toBeNull();
  });

  it('is sent on refresh and logout, never on login/start or login/end', async () => {
    const { th, server } = client({ 'POST /oauth-agent/logout': () => json(200, { url: null }) });
    await th.onPageLoad();
    await th.refresh();
    await th.logout();
    const header = (path: string) => server.calls.find((c) => c.path === path)!.headers.get('x-th-csrf');
    expect(header('/oauth-agent/refresh')).toBe('csrf-value-1');
    expect(header('/oauth-agent/logout')).toBe('csrf-value-1');
    expect(header('/oauth-agent/login/end')).toBeNull();
  });
});

describe('refresh on 401', () => {
  it.each([
    ['with Web Locks', () => fakeBrowser().tab()],
    ['without any cross-tab primitive', () => ({})],
  ])('makes one refresh for many concurrent 401s, and retries each request once (%s)', async (_name, crossTab) => {
    let refreshed = false;
    const refreshGate = deferred();
    const { th, server } = client({
      // Stragglers: some 401s arrive while the refresh runs, some after it finished.
      'GET /api/orders': async (c) => {
        const n = Number(c.search.get('n'));
        const stale = !refreshed;
        await tick(stale ? (n % 4) * 20 : 0);
        return stale ? expiredAtApi() : json(200, { ok: true });
      },
      'POST /oauth-agent/refresh': async () => { await refreshGate.promise; refreshed = true; return new Response(null, { status: 204 }); },
    }, { crossTab: crossTab() });
    await th.onPageLoad();
    const results = Array.from({ length: 10 }, (_, n) => th.fetch(`/api/orders?n=${n}`));
    await tick(30); // the n%4 == 0 answers arrived; the others come in while or after the refresh runs
    refreshGate.resolve();
    const responses = await Promise.all(results);
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(server.count('POST', '/oauth-agent/refresh')).toBe(1);
    expect(server.count('GET', '/api/orders')).toBe(20);
  });

  it('retries only once: a second 401 is returned to the caller without another refresh', async () => {
    const { th, server } = client({ 'POST /api/echo': () => expiredAtApi() });
    await th.onPageLoad();
    const response = await th.fetch('/api/echo', { method: 'POST', body: 'payload' });
    expect(response.status).toBe(401);
    expect(server.count('POST', '/api/echo')).toBe(2);
    expect(server.count('POST', '/oauth-agent/refresh')).toBe(1);
    expect(server.calls.filter((c) => c.path === '/api/echo').map((c) => c.body)).toEqual(['payload', 'payload']);
  });

  it('ends the session when the refresh is rejected: session_expired event, typed error, no CSRF afterwards', async () => {
    const { th, server } = client({
      '* /api/orders': () => json(401, { code: 'token_expired', message: '' }),
      'POST /oauth-agent/refresh': () => json(401, { code: 'session_expired', message: '' }),
    });
    await th.onPageLoad();
    const expired = vi.fn();
    th.on('session_expired', expired);
    const err = await rejection(th.fetch('/api/orders'));
    expect([err.code, err.status]).toEqual(['session_expired', 401]);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(expired).toHaveBeenCalledWith({ source: 'this-tab' });
    expect(th.isLoggedIn).toBe(false);
    await th.fetch('/api/orders', { method: 'POST' }).catch(() => {});
    expect(server.calls.at(-2)!.headers.get('x-th-csrf')).toBeNull();
  });

  it.each([
    ['an API\'s insufficient_scope', () => new Response('{}', { status: 401, headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="orders:write"' } })],
    ['an API\'s own refusal without a challenge', () => json(401, { error: 'not_your_order' })],
    ['a challenge of another scheme', () => new Response('', { status: 401, headers: { 'www-authenticate': 'Basic realm="invalid_token"' } })],
    ['the proxy\'s unauthorized_request (e.g. a missing CSRF header)', () => json(401, { code: 'unauthorized_request', message: '' })],
  ])('returns %s to the caller: no refresh, no retry', async (_name, answer) => {
    const { th, server } = client({ 'POST /api/orders': answer });
    await th.onPageLoad();
    const response = await th.fetch('/api/orders', { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.text()).toBe(await answer().text()); // the body is still the caller's to read
    expect(server.count('POST', '/api/orders')).toBe(1);
    expect(server.count('POST', '/oauth-agent/refresh')).toBe(0);
    expect(th.isLoggedIn).toBe(true);
  });

  it('refreshes on the proxy\'s token_expired and on an unquoted invalid_token challenge', async () => {
    for (const expired of [() => json(401, { code: 'token_expired', message: '' }),
      () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error=invalid_token' } })]) {
      let first = true;
      const { th, server } = client({ 'GET /api/orders': () => (first ? ((first = false), expired()) : json(200, { ok: true })) });
      await th.onPageLoad();
      expect((await th.fetch('/api/orders')).status).toBe(200);
      expect(server.count('POST', '/oauth-agent/refresh')).toBe(1);
    }
  });

  it('session_expired from the proxy ends the session without a refresh', async () => {
    const { th, server } = client({ 'GET /api/orders': () => json(401, { code: 'session_expired', message: '' }) });
    await th.onPageLoad();
    const expired = vi.fn();
    th.on('session_expired', expired);
    const err = await rejection(th.fetch('/api/orders'));
    expect([err.code, err.status]).toEqual(['session_expired', 401]);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(th.isLoggedIn).toBe(false);
    expect(server.count('POST', '/oauth-agent/refresh')).toBe(0);
  });

  it('refreshes and retries userInfo once on token_expired', async () => {
    let calls = 0;
    const { th, server } = client({
      'GET /oauth-agent/userInfo': () => (++calls === 1 ? json(401, { code: 'token_expired', message: '' }) : json(200, { sub: 'alice', name: 'Alice' })),
    });
    await th.onPageLoad();
    expect(await th.getUserInfo()).toEqual({ sub: 'alice', name: 'Alice' });
    expect(server.count('POST', '/oauth-agent/refresh')).toBe(1);
  });
});

describe('same origin only', () => {
  it.each(['https://evil.example/api/orders', '//evil.example/api/orders', 'http://app.example/api/orders'])('refuses %s before sending anything', async (url) => {
    const { th, server } = client({});
    await th.onPageLoad();
    const before = server.calls.length;
    const err = await rejection(th.fetch(url, { method: 'POST' }));
    expect(err.code).toBe('cross_origin_request');
    expect(server.calls.length).toBe(before);
  });

  it('refuses a Request object aimed at another origin', async () => {
    const { th } = client({});
    expect((await rejection(th.fetch(new Request('https://evil.example/x')))).code).toBe('cross_origin_request');
  });

  it('accepts an absolute URL on its own origin', async () => {
    const { th } = client({ 'GET /api/orders': () => json(200, { ok: true }) });
    expect((await th.fetch(`${ORIGIN}/api/orders`)).status).toBe(200);
  });
});

describe('onPageLoad', () => {
  it('finishes a login, removes the authorization response from the address bar and emits login', async () => {
    const href = `${ORIGIN}/orders/42?tab=2&code=abc&state=xyz&iss=https%3A%2F%2Fidp&session_state=s#top`;
    const { th, server, win } = client({ 'POST /oauth-agent/login/end': () => json(200, { ...LOGGED_IN, handled: true }) }, { href });
    const login = vi.fn();
    th.on('login', login);
    const result = await th.onPageLoad();
    expect(result).toEqual({ isLoggedIn: true, handled: true, claims: { sub: 'alice' } });
    expect(JSON.parse(server.calls[0]!.body)).toEqual({ pageUrl: href });
    expect(win.replaced).toEqual(['/orders/42?tab=2#top']);
    expect(login).toHaveBeenCalledTimes(1);
  });

  it('sends one authorization response to login/end once, however often the page-load logic runs', async () => {
    const href = `${ORIGIN}/?code=abc&state=xyz`;
    const gate = deferred();
    const { th, server } = client({ 'POST /oauth-agent/login/end': async () => { await gate.promise; return json(200, { ...LOGGED_IN, handled: true }); } }, { href });
    // React StrictMode: the effect runs, is cleaned up and runs again before the first call returns.
    const first = th.onPageLoad(href);
    const second = th.onPageLoad(href);
    gate.resolve();
    expect(await second).toEqual(await first);
    expect((await first).handled).toBe(true);
    expect(await th.onPageLoad(href)).toEqual(await first); // and later on, with the same URL
    expect(server.count('POST', '/oauth-agent/login/end')).toBe(1);
    // A plain page URL is asked about afresh once the earlier call has finished.
    await th.onPageLoad(`${ORIGIN}/orders`);
    await th.onPageLoad(`${ORIGIN}/orders`);
    expect(server.count('POST', '/oauth-agent/login/end')).toBe(3);
  });

  it('leaves the address bar alone when nothing was handled', async () => {
    const { th, win } = client({ 'POST /oauth-agent/login/end': () => json(200, { handled: false, isLoggedIn: false }) }, { href: `${ORIGIN}/?tab=2` });
    expect(await th.onPageLoad()).toEqual({ isLoggedIn: false, handled: false });
    expect(win.replaced).toEqual([]);
  });

  it('turns a login error into a typed error and still cleans the address bar', async () => {
    const href = `${ORIGIN}/?error=login_required&error_description=nope&state=xyz`;
    const { th, win } = client({ 'POST /oauth-agent/login/end': () => json(401, { code: 'login_required', message: 'x' }) }, { href });
    const err = await rejection(th.onPageLoad());
    expect([err.code, err.status]).toEqual(['login_required', 401]);
    expect(win.replaced).toEqual(['/']);
  });
});

describe('login and logout', () => {
  it('login() sends allow-listed extra parameters as the contract list and navigates to the authorization URL', async () => {
    const { th, server, win } = client({ 'POST /oauth-agent/login/start': () => json(200, { authorizationRequestUrl: 'https://idp.example/authorize?x=1' }) });
    await th.login({ prompt: 'login' });
    expect(JSON.parse(server.calls[0]!.body)).toEqual({ extraParams: [{ key: 'prompt', value: 'login' }] });
    expect(win.assigned).toEqual(['https://idp.example/authorize?x=1']);
  });

  it('never navigates to a non-http URL', async () => {
    const { th, win } = client({ 'POST /oauth-agent/login/start': () => json(200, { authorizationRequestUrl: 'javascript:alert(1)' }) });
    expect((await rejection(th.login())).code).toBe('invalid_response');
    expect(win.assigned).toEqual([]);
  });

  it('logout() navigates to the end-session URL, or to the app when there is none', async () => {
    const a = client({ 'POST /oauth-agent/logout': () => json(200, { url: 'https://idp.example/end?id_token_hint=h' }) });
    await a.th.onPageLoad();
    await a.th.logout();
    expect(a.win.assigned).toEqual(['https://idp.example/end?id_token_hint=h']);
    const b = client({ 'POST /oauth-agent/logout': () => json(200, { url: null }) });
    await b.th.onPageLoad();
    await b.th.logout();
    expect(b.win.assigned).toEqual([`${ORIGIN}/`]);
  });
});

describe('across tabs', () => {
  it('one refresh for two tabs that both hit a 401; the other tab reuses it', async () => {
    const browser = fakeBrowser();
    let refreshed = false;
    const routes = {
      'GET /api/orders': () => (refreshed ? json(200, {}) : expiredAtApi()),
      'POST /oauth-agent/refresh': async () => { await tick(20); refreshed = true; return new Response(null, { status: 204 }); },
    };
    const server = scriptedFetch({ 'POST /oauth-agent/login/end': () => json(200, LOGGED_IN), 'GET /oauth-agent/claims': () => json(200, {}), ...routes });
    const tab = () => {
      const win = fakeWindow(`${ORIGIN}/`);
      return createTokenHandlerClient({ fetch: server.fetch, location: win.location, history: win.history, crossTab: browser.tab() });
    };
    const [a, b] = [tab(), tab()];
    await Promise.all([a.onPageLoad(), b.onPageLoad()]);
    const refreshedInB = vi.fn();
    b.on('refresh', refreshedInB);
    const statuses = await Promise.all([a.fetch('/api/orders'), b.fetch('/api/orders')]).then((rs) => rs.map((r) => r.status));
    expect(statuses).toEqual([200, 200]);
    expect(server.count('POST', '/oauth-agent/refresh')).toBe(1);
    expect(refreshedInB).toHaveBeenCalledWith({ source: 'other-tab' });
  });

  it('logout in one tab signs the other out without a reload, and no message carries the CSRF value', async () => {
    const browser = fakeBrowser();
    const a = client({ 'POST /oauth-agent/logout': () => json(200, { url: null }) }, { crossTab: browser.tab() });
    const b = client({}, { crossTab: browser.tab() });
    await Promise.all([a.th.onPageLoad(), b.th.onPageLoad()]);
    const loggedOut = vi.fn();
    b.th.on('logout', loggedOut);
    await a.th.logout();
    await tick();
    expect(loggedOut).toHaveBeenCalledWith({ source: 'other-tab' });
    expect(b.th.isLoggedIn).toBe(false);
    expect(browser.messages.length).toBeGreaterThan(0);
    expect(JSON.stringify(browser.messages)).not.toContain('csrf-value-1');
  });

  it('session expiry in one tab is announced to the other', async () => {
    const browser = fakeBrowser();
    const expiring = { '* /api/x': () => expiredAtApi(), 'POST /oauth-agent/refresh': () => json(401, { code: 'session_expired', message: '' }) };
    const a = client(expiring, { crossTab: browser.tab() });
    const b = client({}, { crossTab: browser.tab() });
    await Promise.all([a.th.onPageLoad(), b.th.onPageLoad()]);
    const expired = vi.fn();
    b.th.on('session_expired', expired);
    await a.th.fetch('/api/x').catch(() => {});
    await tick();
    expect(expired).toHaveBeenCalledWith({ source: 'other-tab' });
  });

  it('without BroadcastChannel, announces logout through storage events and leaves nothing in storage', async () => {
    const store = new Map<string, string>();
    const listeners: Array<(e: { key: string | null; newValue: string | null }) => void> = [];
    const tabEnv = () => {
      const mine: typeof listeners = [];
      return {
        storage: {
          // The storage event fires in every other tab of the origin, never in the writer.
          setItem: (key: string, value: string) => { store.set(key, value); listeners.filter((l) => !mine.includes(l)).forEach((l) => l({ key, newValue: value })); },
          removeItem: (key: string) => { store.delete(key); },
        },
        addStorageListener: (fn: (e: { key: string | null; newValue: string | null }) => void) => { mine.push(fn); listeners.push(fn); },
      };
    };
    const a = client({ 'POST /oauth-agent/logout': () => json(200, { url: null }) }, { crossTab: tabEnv() });
    const b = client({}, { crossTab: tabEnv() });
    await Promise.all([a.th.onPageLoad(), b.th.onPageLoad()]);
    const loggedOut = vi.fn();
    b.th.on('logout', loggedOut);
    await a.th.logout();
    expect(loggedOut).toHaveBeenCalledWith({ source: 'other-tab' });
    expect(store.size).toBe(0);
  });
});
