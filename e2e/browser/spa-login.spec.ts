// The demo SPA's everyday flows in a real Chromium against the default stack (identity server on
// 127.0.0.1, app on localhost: two sites): login through the identity server's pages, reload,
// deep links, API calls through the proxy, and logout.
import { expect, test } from '@playwright/test';
import { logOutThroughIdentityServer, sessionCookieNames, signInThroughPages } from './spa-helpers';

test('login through the identity server shows the user, cleans the address bar, and survives a reload', async ({ page }) => {
  const violations: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('console', (m) => { if (m.text().startsWith('CSP violation')) violations.push(m.text()); });
  await page.goto('/');
  await expect(page.locator('#signed-out')).toBeVisible();
  await signInThroughPages(page, 'alice');

  await expect(page.locator('#user-name')).toHaveText('Alice');
  await expect(page.locator('#claims')).toContainText('alice');
  const url = new URL(page.url());
  for (const param of ['code', 'state', 'iss']) expect(url.searchParams.has(param), param).toBe(false);

  await page.reload();
  await expect(page.locator('#signed-in')).toBeVisible();
  await expect(page.locator('#user-name')).toHaveText('Alice');
  expect(violations).toEqual([]); // the demo runs under `script-src 'self'; style-src 'self'`
});

test('API GET and POST go through the proxy with the user\'s token', async ({ page }) => {
  await page.goto('/');
  await signInThroughPages(page, 'bob');

  await page.locator('#call-api').click();
  await expect(page.locator('#api-result')).toContainText('GET /api/whoami → 200');
  const got = JSON.parse((await page.locator('#api-result').textContent())!.split('\n').slice(1).join('\n'));
  expect(got.sub).toBe('bob');

  await page.locator('#post-api').click();
  await expect(page.locator('#api-result')).toContainText('POST /api/echo → 200');
  const posted = JSON.parse((await page.locator('#api-result').textContent())!.split('\n').slice(1).join('\n'));
  expect(posted.method).toBe('POST');
  expect(JSON.parse(posted.body).hello).toBe('from the demo SPA');
});

test('a deep link reloads into the app, not a 404', async ({ page }) => {
  await page.goto('/');
  await signInThroughPages(page, 'carol');
  const response = await page.goto('/orders/42');
  expect(response?.status()).toBe(200);
  await expect(page.locator('#signed-in')).toBeVisible();
  await page.reload();
  await expect(page.locator('#user-name')).toHaveText('Carol');
});

test('logout signs out, removes every session cookie, and a following API call gets 401', async ({ page, context, baseURL }) => {
  await page.goto('/');
  await signInThroughPages(page, 'dave');
  expect((await sessionCookieNames(context, baseURL!)).length).toBeGreaterThan(0);

  await logOutThroughIdentityServer(page, new URL(baseURL!).origin);
  await expect(page.locator('#signed-out')).toBeVisible();
  expect(await sessionCookieNames(context, baseURL!)).toEqual([]);

  const status = await page.evaluate(async () => (await fetch('/api/whoami')).status);
  expect(status).toBe(401);
});
