// Several SPAs on one deployment (contract §8) in one Chromium profile, on both transports: the demo
// SPA served as /shop (alice) and /admin (bob) at the same time, each through its own OAuth Agent,
// OAuth Proxy, identity-server client and cookies.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startAppsStack, type AppsStack } from '../api/several-apps-stack';
import { logOutThroughIdentityServer, PASSWORD } from './spa-helpers';

test.describe.configure({ mode: 'serial' });

let stack: AppsStack;
test.beforeAll(async () => { stack = await startAppsStack(['node', 'next']); });
test.afterAll(async () => { await stack?.close(); });

/** Signs in on the identity server's form (the page is already there) and waits for the app's signed-in view. */
async function signInAtIdentityServer(page: Page, username: string): Promise<void> {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#signed-in')).toBeVisible();
}

/** What the app's "GET <base>/api/whoami" button shows: the status line and the caller the upstream saw. */
async function callApiButton(page: Page, base: string): Promise<string | undefined> {
  await page.locator('#call-api').click();
  await expect(page.locator('#api-result')).toContainText(`GET ${base}/api/whoami → 200`);
  return JSON.parse((await page.locator('#api-result').textContent())!.split('\n').slice(1).join('\n')).sub;
}

const cookieNamesAt = async (context: BrowserContext, url: string) =>
  (await context.cookies(url)).map((c) => c.name).filter((n) => /^__(Secure|Host)-th-/.test(n)).sort();

for (const transport of ['node', 'next'] as const) {
  test(`shop as alice and admin as bob side by side, refresh one, log out of the other (${transport})`, async ({ browser }) => {
    const { shop, admin } = stack.apps(transport);
    const context = await browser.newContext();
    const shopPage = await context.newPage();
    await shopPage.goto(`${shop.origin}/shop/orders/1`); // a deep link loads shop's index.html
    await expect(shopPage.locator('h1[data-app="shop"]')).toBeVisible();
    await shopPage.locator('#login').click();
    await signInAtIdentityServer(shopPage, 'alice');
    expect(new URL(shopPage.url()).pathname).toMatch(/^\/shop\/?$/);

    const adminPage = await context.newPage();
    await adminPage.goto(`${admin.origin}/admin/`);
    await expect(adminPage.locator('#signed-out')).toBeVisible(); // shop's session is not admin's
    // The identity server remembers alice in this profile: prompt=login to sign in as someone else.
    await adminPage.evaluate(async () => {
      const { createTokenHandlerClient } = await import('/assets/token-handler-client.js' as string);
      await createTokenHandlerClient({ basePath: '/admin', cookiePrefix: 'th-admin' }).login({ prompt: 'login' });
    });
    await signInAtIdentityServer(adminPage, 'bob');

    expect(await callApiButton(shopPage, '/shop')).toBe('alice');
    expect(await callApiButton(adminPage, '/admin')).toBe('bob');
    const kinds = (p: string) => ['at', 'csrf', 'id', 'rt'].map((k) => `__Secure-${p}-${k}`).sort();
    expect(await cookieNamesAt(context, `${shop.origin}/shop/`)).toEqual(kinds('th-shop'));
    expect(await cookieNamesAt(context, `${admin.origin}/admin/`)).toEqual(kinds('th-admin'));

    // Refresh admin: new admin cookies, shop's untouched.
    const before = await context.cookies(`${admin.origin}/admin/`);
    const shopBefore = await context.cookies(`${shop.origin}/shop/`);
    await adminPage.evaluate(async () => {
      const { createTokenHandlerClient } = await import('/assets/token-handler-client.js' as string);
      const th = createTokenHandlerClient({ basePath: '/admin', cookiePrefix: 'th-admin' });
      await th.session();
      await th.refresh();
    });
    const at = (cs: Array<{ name: string; value: string }>, n: string) => cs.find((c) => c.name === n)?.value;
    expect(at(await context.cookies(`${admin.origin}/admin/`), '__Secure-th-admin-at')).not.toBe(at(before, '__Secure-th-admin-at'));
    expect(await context.cookies(`${shop.origin}/shop/`)).toEqual(shopBefore);
    expect(await callApiButton(adminPage, '/admin')).toBe('bob');
    expect(await callApiButton(shopPage, '/shop')).toBe('alice');

    // Log out of shop through its button (and the identity server's end-session page): admin stays signed in.
    await logOutThroughIdentityServer(shopPage, shop.origin, '/shop');
    await expect(shopPage.locator('#signed-out')).toBeVisible();
    expect(await cookieNamesAt(context, `${shop.origin}/shop/`)).toEqual([]);
    expect(await cookieNamesAt(context, `${admin.origin}/admin/`)).toEqual(kinds('th-admin'));
    // Admin's BFF session is untouched. (The identity server's end-session page also ended the one
    // identity-server session of this profile, and with it the grants bound to it, so admin's next
    // refresh would fail there: single logout at the identity server, not cookie leakage in the BFF.)
    expect(await adminPage.evaluate(async () => (await (await fetch('/admin/oauth-agent/session')).json()).isLoggedIn)).toBe(true);
    expect(await callApiButton(adminPage, '/admin')).toBe('bob');
    expect(await shopPage.evaluate(async () => (await fetch('/shop/api/whoami')).status)).toBe(401);
    await context.close();
  });
}
