// The demo SPA when the identity server's session ends elsewhere (docs/contract.md §5/§7): "Sign out
// everywhere" opens the identity server's end-session page in another tab; the identity server tells
// the BFF by back-channel logout; back on the app's tab, the page shows the session has ended.
import { expect, test } from '@playwright/test';
import { sessionCookieNames, signInThroughPages } from './spa-helpers';

test('signing out at the identity server in another tab ends the app\'s session, and the page says so', async ({ page, context, baseURL }) => {
  await page.goto('/');
  await signInThroughPages(page, 'erin');

  const [idpTab] = await Promise.all([context.waitForEvent('page'), page.locator('#sign-out-everywhere').click()]);
  // The end-session page submits its confirmation itself and ends on the "Signed out" page.
  await expect(idpTab.locator('h1')).toHaveText('Signed out');
  await idpTab.close();

  // Coming back to the app's tab: the page rechecks the session, which the BFF has ended.
  await page.bringToFront();
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(page.locator('#signed-out')).toBeVisible();
  await expect(page.locator('#status')).toContainText('ended at the identity server');
  expect(await sessionCookieNames(context, baseURL!)).toEqual([]);
  await page.reload();
  await expect(page.locator('#signed-out')).toBeVisible();
});
