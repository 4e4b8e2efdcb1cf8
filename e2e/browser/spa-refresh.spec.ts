// Access tokens that live 4 seconds: after expiry API calls keep working through one refresh, a
// burst of parallel calls costs the identity server exactly one refresh, and two tabs of one
// browser stay in step (refresh in one, logout announced to the other without a reload).
import { expect, test, type BrowserContext } from '@playwright/test';
import type { Stack } from '../harness/stack';
import { clearGrantEvents, fetchInPage, refreshGrants, signInThroughPages, startSpaStack } from './spa-helpers';

const TTL = 4;
let stack: Stack;
let origin: string;
let context: BrowserContext;

test.beforeAll(async () => {
  ({ stack, origin } = await startSpaStack({ accessTokenTtl: TTL }));
});
test.afterAll(async () => { await stack?.close(); });
test.beforeEach(async ({ browser }) => { context = await browser.newContext({ baseURL: origin }); });
test.afterEach(async () => { await context?.close(); });

const expire = () => new Promise((r) => setTimeout(r, (TTL + 1) * 1000));

test('after the access token expired, an API call still succeeds, and 10 parallel calls cost one refresh', async () => {
  const page = await context.newPage();
  await page.goto('/');
  await signInThroughPages(page, 'erin');

  await expire();
  await page.locator('#call-api').click();
  await expect(page.locator('#api-result')).toContainText('GET /api/whoami → 200');
  await expect(page.locator('#api-result')).toContainText('"sub": "erin"');

  await expire();
  await clearGrantEvents(stack.local.issuer);
  const results = await fetchInPage(page, '/api/whoami', 10);
  expect(results).toEqual(Array(10).fill({ status: 200, sub: 'erin' }));
  expect(await refreshGrants(stack.local.issuer)).toBe(1);
});

test('two tabs: a refresh in one keeps the idle other working; logout in one signs the other out without a reload', async () => {
  const [a, b] = [await context.newPage(), await context.newPage()];
  await a.goto('/');
  await signInThroughPages(a, 'frank');
  await b.goto('/');
  await expect(b.locator('#user-name')).toHaveText('Frank');

  await expire();
  await clearGrantEvents(stack.local.issuer);
  await a.locator('#call-api').click();
  await expect(a.locator('#api-result')).toContainText('GET /api/whoami → 200');
  expect(await refreshGrants(stack.local.issuer)).toBe(1);

  await b.locator('#call-api').click();
  await expect(b.locator('#api-result')).toContainText('GET /api/whoami → 200');
  await expect(b.locator('#api-result')).toContainText('"sub": "frank"');
  await b.locator('#post-api').click();
  await expect(b.locator('#api-result')).toContainText('POST /api/echo → 200');

  // A marker on the page's window survives only if the tab switches views without (re)loading.
  await b.evaluate(() => { (window as unknown as { notReloaded?: boolean }).notReloaded = true; });
  await a.locator('#logout').click();
  await expect(b.locator('#signed-out')).toBeVisible(); // polled by Playwright: no wall-clock window
  await expect(b.locator('#signed-in')).toBeHidden();
  expect(await b.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  expect(b.url()).toBe(`${origin}/`); // switched views without navigating
});
