import { expect, test } from '@playwright/test';
import { E2E_PORTS } from '../../playwright.config';

test('the demo page loads from the BFF, and the identity server (another site) publishes discovery', async ({ page, request }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle(/next-token-handler/);
  await expect(page.locator('h1')).toContainText('next-token-handler');

  const discovery = await request.get(`http://127.0.0.1:${E2E_PORTS.idp}/.well-known/openid-configuration`);
  expect(discovery.status()).toBe(200);
  expect((await discovery.json()).issuer).toBe(`http://127.0.0.1:${E2E_PORTS.idp}`);

  const health = await request.get('/healthz');
  expect(await health.json()).toEqual({ status: 'ok' });
});
