// Issue 7, transport A in a real browser: the BFF runs under `next start` (the OAuth Proxy is proxy.ts),
// started by this spec with its own identity server and sample API on free ports. Chromium logs in
// through the identity server's pages and then calls /api from the page, as the SPA does.
import { expect, test } from '@playwright/test';
import { startStack, type Stack } from '../harness/stack';

let stack: Stack;
test.beforeAll(async () => { stack = await startStack({ transports: ['next'] }); });
test.afterAll(async () => { await stack?.close(); });

test('login and an /api call under next start (proxy.ts transport)', async ({ page, context }) => {
  const bff = stack.bff('next');
  await page.goto(`${bff.origin}/`);
  const start = await page.evaluate(async () => {
    const res = await fetch('/oauth-agent/login/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    return { status: res.status, body: await res.json() as { authorizationRequestUrl: string } };
  });
  expect(start.status).toBe(200);
  const authorizationUrl = new URL(start.body.authorizationRequestUrl);
  expect(authorizationUrl.origin).toBe(stack.local.issuer); // another site: 127.0.0.1, the app is on localhost

  await page.goto(authorizationUrl.href);
  await page.locator('#username').fill('alice');
  await page.locator('#password').fill('Password1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === bff.origin && url.searchParams.has('code'));

  const result = await page.evaluate(async () => {
    const end = await fetch('/oauth-agent/login/end', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pageUrl: location.href }),
    });
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
