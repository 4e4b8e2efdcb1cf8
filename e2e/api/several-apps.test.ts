// Several SPAs on one deployment (contract §8), on both transports: two path-based apps (shop, admin)
// and one host-based app (ops, on 127.0.0.1 while the others are on localhost), each with its own
// client at the local identity server, logged in as different users at the same time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import type { Transport } from '../harness/start-bff';
import {
  call, cookieName, cookieValue, loginToApp, renameCookies, startAppsStack, withCookie,
  type AppSession, type AppsStack, type AppUnderTest,
} from './several-apps-stack';

const KINDS = ['at', 'rt', 'id', 'csrf'] as const;
let stack: AppsStack;
beforeAll(async () => { stack = await startAppsStack(['node', 'next']); }, 120_000);
afterAll(async () => { await stack?.close(); });

describe.each<Transport>(['node', 'next'])('several SPAs on one deployment (%s transport)', (transport) => {
  let shop: AppUnderTest, admin: AppUnderTest, ops: AppUnderTest;
  let alice: AppSession, bob: AppSession, carol: AppSession;
  const whoami = async (app: AppUnderTest, s: AppSession) => {
    const res = await call(app, '/api/whoami', { cookies: s.cookies });
    return { status: res.status, body: await res.json() as { sub?: string; code?: string } };
  };

  beforeAll(async () => {
    ({ shop, admin, ops } = stack.apps(transport));
    [alice, bob, carol] = await Promise.all([loginToApp(shop, 'alice'), loginToApp(admin, 'bob'), loginToApp(ops, 'carol')]);
  }, 60_000);

  it('each app starts its login with its own client and a redirect URI under its base path', async () => {
    for (const [app, clientId] of [[shop, 'shop-bff'], [admin, 'admin-bff'], [ops, 'demo-bff']] as const) {
      const res = await call(app, '/oauth-agent/login/start', { method: 'POST' });
      expect(res.status).toBe(200);
      const url = new URL((await res.json()).authorizationRequestUrl);
      expect(url.searchParams.get('client_id')).toBe(clientId);
      // OIDC_PAR=auto (RFC 9126 §4): the local identity server offers PAR, so the redirect URI went in the
      // pushed request and the URL carries only its request_uri; the logins in beforeAll prove each app's
      // redirect URI under its base path (the identity server accepted it and login/end redeemed the code).
      const pushed = url.searchParams.get('request_uri');
      if (pushed === null) expect(url.searchParams.get('redirect_uri')).toBe(`${app.origin}${app.base}/`);
      else expect(pushed).toMatch(/^urn:ietf:params:oauth:request_uri:/);
      const [transaction] = res.headers.getSetCookie();
      expect(transaction).toMatch(new RegExp(`^${app.base ? '__Secure-' : '__Host-'}${app.prefix}-login-`));
      expect(transaction).toContain(`; Path=${app.base || '/'};`);
    }
  });

  it('session cookies: __Secure- with Path=<base path> for path-based apps, __Host- with Path=/ for the host-based one', () => {
    const sessionLines = (s: AppSession, app: AppUnderTest) => s.setCookies.filter((l) => KINDS.some((k) => l.startsWith(`${cookieName(app, k)}=`)));
    for (const [s, app] of [[alice, shop], [bob, admin], [carol, ops]] as const) {
      const lines = sessionLines(s, app);
      expect(lines).toHaveLength(4);
      for (const l of lines) expect(l).toContain(`; Path=${app.base || '/'};`);
    }
  });

  it('each upstream sees its own app\'s user, and each app\'s /api/* reaches only its own upstream', async () => {
    stack.local.api.clearLog();
    expect(await whoami(shop, alice)).toEqual({ status: 200, body: expect.objectContaining({ sub: 'alice' }) });
    expect(await whoami(admin, bob)).toEqual({ status: 200, body: expect.objectContaining({ sub: 'bob' }) });
    expect(await whoami(ops, carol)).toEqual({ status: 200, body: expect.objectContaining({ sub: 'carol' }) });
    const post = await call(admin, '/api/echo', { method: 'POST', cookies: bob.cookies, body: { x: 1 }, headers: { 'x-th-admin-csrf': bob.csrf } });
    expect(post.status).toBe(200);
    expect(stack.local.api.log.map((r) => r.path)).toEqual(['/shop/whoami', '/admin/whoami', '/ops/whoami', '/admin/echo']);
  });

  it('no app answers /api/* or /oauth-agent/* where none is mounted: 404, nothing forwarded', async () => {
    stack.local.api.clearLog();
    const root = { ...shop, base: '' };
    for (const path of ['/api/whoami', '/oauth-agent/session', '/api']) {
      const res = await call(root, path, { cookies: alice.cookies });
      expect(res.status, path).toBe(404);
      expect((await res.json()).code).toBe('not_found');
    }
    // Under no app's base path, an /api segment is a client route of the page there, never forwarded.
    await call(root, '/blog/api/whoami', { cookies: alice.cookies });
    expect(stack.local.api.log).toHaveLength(0);
  });

  it('another app\'s cookies under this app\'s names are refused (same COOKIE_KEYS): every slot, agent and proxy → 401', async () => {
    stack.local.api.clearLog();
    for (const [victim, own, foreign, foreignApp] of [[admin, bob, alice, shop], [shop, alice, bob, admin], [ops, carol, alice, shop], [admin, bob, carol, ops]] as const) {
      const copied = renameCookies(foreign.cookies, foreignApp, victim);
      // The whole set, as if the attacker copied every cookie.
      expect((await call(victim, '/oauth-agent/claims', { cookies: copied })).status).toBe(401);
      expect((await call(victim, '/api/whoami', { cookies: copied })).status).toBe(401);
      // One slot at a time, into the victim's own valid session.
      for (const kind of KINDS) {
        const swapped = withCookie(own.cookies, cookieName(victim, kind), cookieValue(copied, cookieName(victim, kind))!);
        const agent = await call(victim, '/oauth-agent/claims', { cookies: swapped });
        expect(agent.status, `${foreignApp.id} ${kind} → ${victim.id} agent`).toBe(401);
        expect((await agent.json()).code).toBe('unauthorized_request');
        if (kind === 'at' || kind === 'csrf') {
          expect((await call(victim, '/api/whoami', { cookies: swapped })).status, `${foreignApp.id} ${kind} → ${victim.id} proxy`).toBe(401);
        }
      }
    }
    // A CSRF value of another app is refused too.
    const csrf = await call(admin, '/api/echo', { method: 'POST', cookies: bob.cookies, body: {}, headers: { 'x-th-admin-csrf': alice.csrf } });
    expect(csrf.status).toBe(401);
    expect(stack.local.api.log).toHaveLength(0);
    // The victims' own sessions were never touched.
    expect((await whoami(admin, bob)).body.sub).toBe('bob');
  });

  it('refreshing shop changes only shop\'s cookies; admin stays logged in with its own', async () => {
    const res = await call(shop, '/oauth-agent/refresh', { method: 'POST', cookies: alice.cookies, headers: { 'x-th-shop-csrf': alice.csrf } });
    expect(res.status).toBe(204);
    const lines = res.headers.getSetCookie();
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) { expect(l).toMatch(/^__Secure-th-shop-/); expect(l).toContain('; Path=/shop;'); }
    alice = { ...alice, cookies: applySetCookies(alice.cookies, lines) };
    expect((await whoami(shop, alice)).body.sub).toBe('alice');
    expect((await whoami(admin, bob)).body.sub).toBe('bob');
  });

  it('logging out of shop clears only shop\'s cookies; admin and ops stay logged in', async () => {
    const res = await call(shop, '/oauth-agent/logout', { method: 'POST', cookies: alice.cookies, headers: { 'x-th-shop-csrf': alice.csrf } });
    expect(res.status).toBe(200);
    const { url } = await res.json() as { url: string };
    expect(new URL(url).searchParams.get('client_id')).toBe('shop-bff');
    expect(new URL(url).searchParams.get('post_logout_redirect_uri')).toBe(`${shop.origin}/shop/`);
    const lines = res.headers.getSetCookie();
    expect(lines.map((l) => l.split('=')[0]).sort()).toEqual(KINDS.map((k) => cookieName(shop, k)).sort());
    for (const l of lines) { expect(l).toContain('; Path=/shop;'); expect(l).toContain('Max-Age=0'); }
    const after = applySetCookies(alice.cookies, lines);
    expect(await (await call(shop, '/oauth-agent/session', { cookies: after })).json()).toMatchObject({ isLoggedIn: false });
    expect((await whoami(admin, bob)).body.sub).toBe('bob');
    expect((await whoami(ops, carol)).body.sub).toBe('carol');
    alice = await loginToApp(shop, 'alice'); // for the tests that follow
  });

  it('serves each app\'s own static files, with index.html for its client routes (deep links)', async () => {
    const page = async (app: AppUnderTest, path: string) => {
      const res = await fetch(`${app.origin}${path}`);
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    };
    for (const path of ['/shop/', '/shop', '/shop/orders/1']) {
      const p = await page(shop, path);
      expect(p.status, path).toBe(200);
      expect(p.type).toMatch(/^text\/html/);
      expect(p.text).toContain('data-app="shop"');
    }
    expect((await page(admin, '/admin/users/7')).text).toContain('data-app="admin"');
    expect((await page(ops, '/ops/reports/2026')).text).toContain('data-app="ops"');
    // The Node entry maps every page of a host-based app to public/<id>/; under `next start` its pages
    // live under /<id>/ (README "Several SPAs on one deployment").
    if (transport === 'node') {
      expect((await page(ops, '/')).text).toContain('data-app="ops"');
      expect((await page(ops, '/reports/2026')).text).toContain('data-app="ops"');
    }
    // Without an app of that name, a client route is the root SPA's, as without APPS.
    expect((await page(shop, '/orders/42')).text).not.toContain('data-app=');
    expect((await page(shop, '/orders/42')).status).toBe(200);
  });
});
