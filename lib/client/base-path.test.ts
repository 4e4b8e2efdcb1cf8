// The client library for an app under a base path (contract §8, createTokenHandlerClient({ basePath })).
import { describe, expect, it } from 'vitest';
import { createTokenHandlerClient } from './token-handler-client';
import { fakeBrowser, fakeWindow, json, ORIGIN, scriptedFetch, tick } from './test-doubles';

const LOGGED_IN = { handled: false, isLoggedIn: true, csrf: 'csrf-shop' };

function shopClient(browser = fakeBrowser(), basePath = '/shop') {
  const server = scriptedFetch({
    [`POST ${basePath}/oauth-agent/login/end`]: () => json(200, LOGGED_IN),
    [`GET ${basePath}/oauth-agent/claims`]: () => json(200, { sub: 'alice' }),
    [`POST ${basePath}/oauth-agent/logout`]: () => json(200, { url: null }),
    [`* ${basePath}/api/orders`]: () => json(200, {}),
    '* /api/orders': () => json(200, { root: true }),
  });
  const win = fakeWindow(`${ORIGIN}${basePath}/orders/1`);
  const th = createTokenHandlerClient({ basePath, cookiePrefix: 'th-shop', fetch: server.fetch, location: win.location, history: win.history, crossTab: browser.tab() });
  return { th, server, win };
}

describe('createTokenHandlerClient({ basePath })', () => {
  it('calls the agent under the base path, resolves relative API URLs under it and names the CSRF header after the prefix', async () => {
    const { th, server } = shopClient();
    expect((await th.onPageLoad()).isLoggedIn).toBe(true);
    await th.fetch('api/orders', { method: 'POST' });
    await th.fetch('/shop/api/orders');
    expect(server.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /shop/oauth-agent/login/end', 'GET /shop/oauth-agent/claims', 'POST /shop/api/orders', 'GET /shop/api/orders',
    ]);
    expect(server.calls[2]!.headers.get('x-th-shop-csrf')).toBe('csrf-shop');
  });

  it('goes to <basePath>/ after a logout without an end-session URL', async () => {
    const { th, win } = shopClient();
    await th.onPageLoad();
    await th.logout();
    expect(win.assigned).toEqual([`${ORIGIN}/shop/`]);
  });

  it('keeps cross-tab events within the app: a logout in /shop is no event for /admin tabs of the same browser', async () => {
    const browser = fakeBrowser();
    const shop = shopClient(browser, '/shop');
    const shopTab2 = shopClient(browser, '/shop');
    const admin = shopClient(browser, '/admin');
    const seen: string[] = [];
    shopTab2.th.on('logout', () => seen.push('shop'));
    admin.th.on('logout', () => seen.push('admin'));
    await shop.th.onPageLoad();
    await shop.th.logout();
    await tick(10);
    expect(seen).toEqual(['shop']);
  });
});
