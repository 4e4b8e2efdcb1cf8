// A real login in Chromium: the SPA's calls are made from the page with fetch, the identity server
// (127.0.0.1, another site) shows its login form, and the browser lands back on the BFF origin.
import { expect, test } from '@playwright/test';
import { E2E_PORTS } from '../../playwright.config';

test('login through the OAuth Agent in a real browser: HttpOnly, SameSite=Strict, Secure session cookies', async ({ page, context, baseURL }) => {
  // This spec makes the SPA's calls by hand: keep the demo SPA's own script (which calls login/end on
  // every page load and would consume the code first) out of the page.
  await page.route('**/assets/app.js', (route) => route.abort());
  await page.goto('/');
  const start = await page.evaluate(async () => {
    const res = await fetch('/oauth-agent/login/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    return { status: res.status, body: await res.json() as { authorizationRequestUrl: string } };
  });
  expect(start.status).toBe(200);
  const authorizationUrl = new URL(start.body.authorizationRequestUrl);
  // The identity server is a different site from the app, as in production.
  expect(authorizationUrl.hostname).toBe('127.0.0.1');
  expect(new URL(baseURL!).hostname).toBe('localhost');
  expect(authorizationUrl.port).toBe(String(E2E_PORTS.idp));

  await page.goto(authorizationUrl.href);
  await page.locator('#username').fill('alice');
  await page.locator('#password').fill('Password1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === baseURL!.replace(/\/$/, '') && url.searchParams.has('code'));
  const landed = new URL(page.url());
  // The local identity server offers PAR (OIDC_PAR=auto): the front channel carried only client_id and
  // request_uri; state came back, and login/end below accepts it only if it matches the transaction.
  expect([...authorizationUrl.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  expect(landed.searchParams.get('state')).toBeTruthy();

  const end = await page.evaluate(async () => {
    const res = await fetch('/oauth-agent/login/end', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pageUrl: location.href }),
    });
    return { status: res.status, body: await res.json() as Record<string, unknown>, cookie: document.cookie };
  });
  expect(end.status).toBe(200);
  expect(end.body).toMatchObject({ handled: true, isLoggedIn: true });
  expect(typeof end.body.csrf).toBe('string');
  expect(end.cookie).toBe(''); // nothing readable by JavaScript

  const origin = new URL(baseURL!);
  const cookies = (await context.cookies(origin.href)).filter((c) => c.name.startsWith('__Host-th-'));
  expect(cookies.map((c) => c.name).sort()).toEqual(['__Host-th-at', '__Host-th-csrf', '__Host-th-id', '__Host-th-rt']);
  for (const c of cookies) {
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Strict');
    expect(c.secure).toBe(true);
    expect(c.path).toBe('/');
    expect(c.domain).toBe('localhost');
  }

  // A reload of the page: the session is reported, with the same CSRF token; claims answer.
  const again = await page.evaluate(async () => {
    const session = await (await fetch('/oauth-agent/session')).json() as Record<string, unknown>;
    const claims = await (await fetch('/oauth-agent/claims')).json() as Record<string, unknown>;
    return { session, claims };
  });
  expect(again.session).toMatchObject({ handled: false, isLoggedIn: true, csrf: end.body.csrf });
  expect(again.claims.sub).toBe('alice');
});
