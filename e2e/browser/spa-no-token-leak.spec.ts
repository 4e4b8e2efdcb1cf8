// No token ever reaches what the page's JavaScript can read: storage, document.cookie, the DOM, or
// any response body. The real token values come from decrypting the browser's session cookies
// with the stack's keys, so the scan looks for the actual strings (and each JWT's signature).
import { expect, test } from '@playwright/test';
import type { Stack } from '../harness/stack';
import { signInThroughPages, startSpaStack, tokensInCookies } from './spa-helpers';

let stack: Stack;
let origin: string;

test.beforeAll(async () => {
  ({ stack, origin } = await startSpaStack({ accessTokenTtl: 4 }));
});
test.afterAll(async () => { await stack?.close(); });

test('tokens never appear in storage, document.cookie, the page or any response body', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: origin });
  const page = await context.newPage();
  const bodies: Array<{ url: string; text: string }> = [];
  const pending: Array<Promise<void>> = [];
  page.on('response', (response) => {
    pending.push(response.text().then((text) => { bodies.push({ url: response.url(), text }); }, () => { /* redirects have no body */ }));
  });
  const tokens = new Set<string>();
  const readable: string[] = [];
  const snapshot = async () => {
    for (const t of await tokensInCookies(context, stack, origin)) tokens.add(t);
    readable.push(await page.content());
    readable.push(await page.evaluate(() => JSON.stringify({
      local: Object.entries(localStorage), session: Object.entries(sessionStorage), cookie: document.cookie,
    })));
  };

  await page.goto('/');
  await signInThroughPages(page, 'grace');
  await snapshot();
  await page.locator('#call-api').click();
  await expect(page.locator('#api-result')).toContainText('→ 200');
  await page.locator('#post-api').click();
  await expect(page.locator('#api-result')).toContainText('POST /api/echo → 200');
  await snapshot();
  await new Promise((r) => setTimeout(r, 5000)); // the access token expires: the next call refreshes
  // Whichever side refreshes (the proxy before forwarding, or the client after a 401), a 200 follows.
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/whoami') && r.status() === 200),
    page.locator('#call-api').click(),
  ]);
  await expect(page.locator('#api-result')).toContainText('GET /api/whoami → 200');
  await page.reload();
  await expect(page.locator('#signed-in')).toBeVisible();
  await snapshot();
  await Promise.all(pending);

  expect(tokens.size).toBeGreaterThanOrEqual(4); // access, refresh and ID token, and the refreshed access token
  const needles = [...tokens].flatMap((t) => (t.split('.').length === 3 ? [t, t.split('.')[2]!] : [t]));
  const haystacks = [...readable, ...bodies.map((b) => b.text)];
  expect(bodies.some((b) => b.url.includes('/api/whoami'))).toBe(true);
  for (const needle of needles) {
    const found = haystacks.filter((h) => h.includes(needle)).length;
    expect(found, `a token value appears in ${found} readable place(s)`).toBe(0);
  }
  await context.close();
});
