import { expect, test } from '@playwright/test';

// The demo SPA under its real CSP in a real browser: the fingerprinted stylesheet applies, a deep
// link is the same page, and the browser reports no CSP violation.
test('the demo page and a client-side route render under the CSP with the fingerprinted stylesheet', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy: ${e.violatedDirective} ${e.blockedURI}`));
  });
  for (const path of ['/', '/orders/42']) {
    const response = await page.goto(path);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect(page.locator('h1')).toContainText('next-token-handler');
    // demo-<hash>.css sets body { margin: 2rem }: it loaded and the CSP let it apply.
    expect(await page.evaluate(() => getComputedStyle(document.body).marginTop)).toBe('32px');
  }
  expect(violations).toEqual([]);
});
