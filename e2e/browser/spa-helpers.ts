// Shared steps of the demo SPA's browser specs: sign in through the identity server's own pages,
// start a private stack for specs that need special settings, and read the session's real tokens
// (by decrypting the browser's cookies with the stack's keys) so the specs can look for leaks.
import { expect, type BrowserContext, type Page } from '@playwright/test';
import { loadConfig } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies } from '../../lib/cookies/session-cookies';
import { startStack, type Stack, type StackOptions } from '../harness/stack';

export const PASSWORD = 'Password1';

/** Clicks Login in the demo, signs in on the identity server's form, and waits for the signed-in view. */
export async function signInThroughPages(page: Page, username: string): Promise<void> {
  await page.locator('#login').click();
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#signed-in')).toBeVisible();
}

/**
 * Clicks the demo's Logout and waits for the round trip through the identity server's end-session
 * page back to the app (a path under `basePath`), loaded. The page is on the app's origin before
 * the click too, so it first waits for the page to have left, then for its return: checking the
 * URL alone raced the navigation (the demo shows "signed out" before it leaves).
 */
export async function logOutThroughIdentityServer(page: Page, appOrigin: string, basePath = '/'): Promise<void> {
  const leftApp = page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).origin !== appOrigin);
  await page.locator('#logout').click();
  await leftApp;
  await page.waitForURL((u) => u.origin === appOrigin && u.pathname.startsWith(basePath) && !u.pathname.includes('/oauth-agent'));
  await page.waitForLoadState('load');
}

/** A stack of its own (free ports) for a spec file; `origin` is the BFF the page should open. */
export async function startSpaStack(opts: StackOptions = {}): Promise<{ stack: Stack; origin: string }> {
  const stack = await startStack({ transports: ['node'], ...opts });
  return { stack, origin: stack.bff('node').origin };
}

/** The refresh_token grants the identity server performed (its `/__test/events` witness). */
export async function refreshGrants(issuer: string): Promise<number> {
  const events = await (await fetch(`${issuer}/__test/events`)).json() as Array<{ type: string; grantType?: string }>;
  return events.filter((e) => e.type === 'grant.success' && e.grantType === 'refresh_token').length;
}

export async function clearGrantEvents(issuer: string): Promise<void> {
  await fetch(`${issuer}/__test/events`, { method: 'DELETE' });
}

/** Names of the token handler's cookies the browser holds for the app's origin (prefix `th`). */
export async function sessionCookieNames(context: BrowserContext, origin: string): Promise<string[]> {
  return (await context.cookies(origin)).map((c) => c.name).filter((n) => /^(__Host-)?th-/.test(n));
}

/** The tokens inside the browser's session cookies, decrypted with the stack's keys. */
export async function tokensInCookies(context: BrowserContext, stack: Stack, origin: string): Promise<string[]> {
  const config = loadConfig({
    PUBLIC_ORIGIN: origin,
    OIDC_ISSUER: stack.local.issuer,
    OIDC_CLIENT_ID: 'demo-bff',
    OIDC_CLIENT_SECRET: 'demo-bff-secret',
    COOKIE_KEYS: stack.cookieKeys,
    API_ROUTES: `/api=${stack.local.apiUrl}`,
  });
  const cookies = await context.cookies(origin);
  const jar = new CookieJar(cookies.map((c) => `${c.name}=${c.value}`).join('; '));
  const session = new SessionCookies(config).read(jar);
  if (session.status !== 'ok') throw new Error(`the browser holds no readable session (${session.status})`);
  const { accessToken, refreshToken, idToken } = session.value;
  return [accessToken, refreshToken, idToken].filter((t): t is string => typeof t === 'string' && t.length > 0);
}

/** In-page calls through a second client instance (the demo's own instance is module-private). */
export async function fetchInPage(page: Page, path: string, count = 1): Promise<Array<{ status: number; sub?: string }>> {
  return page.evaluate(async ({ path, count }) => {
    const { createTokenHandlerClient } = await import('/assets/token-handler-client.js' as string);
    const th = createTokenHandlerClient();
    await th.session();
    const responses = await Promise.all(Array.from({ length: count }, () => th.fetch(path)));
    return Promise.all(responses.map(async (r: Response) => ({ status: r.status, sub: (await r.json().catch(() => ({}))).sub })));
  }, { path, count });
}
