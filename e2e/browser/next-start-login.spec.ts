// transport A in a real browser: the BFF runs under `next start` (the OAuth Proxy is proxy.ts),
// started by this spec with its own identity server and sample API on free ports. Chromium logs in
// through the identity server's pages and then calls /api from the page, as the SPA does.
import { expect, test } from '@playwright/test';
import { startStack, type Stack } from '../harness/stack';

let stack: Stack;
test.beforeAll(async () => { stack = await startStack({ transports: ['next'] }); });
test.afterAll(async () => { await stack?.close(); });

test('login and an /api call under next start (proxy.ts transport)', async ({ page, context }) => {
  const bff = stack.bff('next');
  // The real demo SPA: its Login button calls login/start, and on the way back its onPageLoad()
  // finishes the login through login/end.
  await page.goto(`${bff.origin}/`);
  await expect(page.locator('#signed-out')).toBeVisible();
  const [startResponse] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/oauth-agent/login/start')),
    page.locator('#login').click(),
  ]);
  expect(startResponse.status()).toBe(200);
  // The SPA navigates to the identity server: another site (127.0.0.1), the app is on localhost.
  await page.waitForURL((url) => url.origin === stack.local.issuer);
  await page.locator('#username').fill('alice');
  await page.locator('#password').fill('Password1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#signed-in')).toBeVisible();
  await expect(page.locator('#user-name')).toHaveText('Alice');

  const result = await page.evaluate(async () => {
    const end = await fetch('/oauth-agent/session');
    const session = await end.json() as { isLoggedIn: boolean; csrf: string };
    const get = await fetch('/api/echo?from=browser', { credentials: 'include' });
    const post = await fetch('/api/echo', {
      method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-th-csrf': session.csrf }, body: '{"n":1}',
    });
    const withoutCsrf = await fetch('/api/echo', { method: 'POST', credentials: 'include', body: '{}' });
    return {
      end: end.status, session,
      get: { status: get.status, body: await get.json() as { sub: string; query: Record<string, string>; headers: Record<string, string> } },
      post: { status: post.status, body: await post.json() as { method: string; body: string } },
      withoutCsrf: { status: withoutCsrf.status, body: await withoutCsrf.json() as { code: string } },
      readable: document.cookie,
    };
  });
  expect(result.end).toBe(200);
  expect(result.session.isLoggedIn).toBe(true);
  expect(result.get.status).toBe(200);
  expect(result.get.body.sub).toBe('alice');
  expect(result.get.body.query).toEqual({ from: 'browser' });
  expect(result.get.body.headers.authorization).toMatch(/^Bearer /);
  expect(result.get.body.headers.cookie).toBeUndefined();
  expect(result.post).toEqual({ status: 200, body: expect.objectContaining({ method: 'POST', body: '{"n":1}' }) });
  expect(result.withoutCsrf).toEqual({ status: 401, body: expect.objectContaining({ code: 'unauthorized_request' }) });
  expect(result.readable).toBe('');
  // The proxy.ts transport answered: the browser saw no upstream address and no upstream cookie.
  const cookies = await context.cookies(bff.origin);
  expect(cookies.map((c) => c.name).sort()).toEqual(['__Host-th-at', '__Host-th-csrf', '__Host-th-id', '__Host-th-rt']);
});
