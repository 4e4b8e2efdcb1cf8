// Contract §8: a multi-app configuration mistake stops the server at start on both transports,
// naming each variable involved.
import { describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port';
import { runUntilExit } from '../harness/run-until-exit';

/** The variables every test shares, on `port` (OIDC_CLIENT_ID is added where a test wants it); each adds its broken APPS settings. */
const validBase = (port: number): Record<string, string> => ({
  PUBLIC_ORIGIN: `http://localhost:${port}`, PORT: String(port), OIDC_ISSUER: 'http://127.0.0.1:4001',
  OIDC_CLIENT_SECRET: 's', COOKIE_KEYS: 'd'.repeat(64), API_ROUTES: '/api=http://127.0.0.1:4001',
});

describe.each([
  ['node', () => ['dist/server.mjs']],
  ['next', (port: number) => ['node_modules/next/dist/bin/next', 'start', '-p', String(port)]],
])('several SPAs: start-up validation (%s transport)', (_name, argsFor) => {
  it('refuses to start, naming the unknown app id and the missing client id', async () => {
    const port = await freePort();
    const { code, output } = await runUntilExit(argsFor(port), {
      ...validBase(port),
      APPS: 'shop,admin', APP_SHOP_BASE_PATH: '/shop', APP_ADMIN_BASE_PATH: '/shop', APP_SHOP_OIDC_CLIENT_ID: 'shop-bff',
      APP_BLOG_OIDC_CLIENT_ID: 'blog-bff',
    });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const message = output.slice(output.indexOf('Invalid configuration'));
    expect(message).toContain('APP_BLOG_OIDC_CLIENT_ID names no app');
    expect(message).toContain('APP_ADMIN_OIDC_CLIENT_ID (or OIDC_CLIENT_ID) is missing');
  });

  it('reports nested base paths and colliding cookie prefixes together with the other problems', async () => {
    const port = await freePort();
    const { code, output } = await runUntilExit(argsFor(port), {
      ...validBase(port), OIDC_CLIENT_ID: 'c',
      APPS: 'shop,eu', APP_SHOP_BASE_PATH: '/shop', APP_EU_BASE_PATH: '/shop/eu', APP_SHOP_COOKIE_PREFIX: 'th', APP_EU_COOKIE_PREFIX: 'th',
      APP_EU_PORT: '3001',
    });
    expect(code).not.toBe(0);
    expect(output).toContain('overlap');
    expect(output).toContain('APP_SHOP_COOKIE_PREFIX and APP_EU_COOKIE_PREFIX');
    expect(output).toContain('APP_EU_PORT cannot be set per app');
  });

  it('refuses two apps with the same origin and base path, naming both apps\' variables', async () => {
    const port = await freePort();
    const { code, output } = await runUntilExit(argsFor(port), {
      ...validBase(port), OIDC_CLIENT_ID: 'c',
      APPS: 'shop,admin', APP_SHOP_BASE_PATH: '/shop', APP_ADMIN_BASE_PATH: '/shop',
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(/APP_SHOP_PUBLIC_ORIGIN\/APP_SHOP_BASE_PATH and APP_ADMIN_PUBLIC_ORIGIN\/APP_ADMIN_BASE_PATH give apps shop and admin the same origin and base path/);
  });
});
