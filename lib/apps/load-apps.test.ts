import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Env } from '../config';

const KEY = 'a'.repeat(64);
const SHARED: Env = {
  PUBLIC_ORIGIN: 'https://www.example.com',
  OIDC_ISSUER: 'https://login.example.com',
  OIDC_CLIENT_SECRET: 'shared-secret',
  COOKIE_KEYS: KEY,
  API_ROUTES: '/api=http://api:8080',
};
const TWO_APPS: Env = {
  ...SHARED,
  APPS: 'shop,admin',
  APP_SHOP_BASE_PATH: '/shop',
  APP_SHOP_OIDC_CLIENT_ID: 'shop-bff',
  APP_SHOP_API_ROUTES: '/api/orders=http://orders:8080/v1',
  APP_ADMIN_BASE_PATH: '/admin',
  APP_ADMIN_OIDC_CLIENT_ID: 'admin-bff',
  APP_ADMIN_OIDC_CLIENT_SECRET: 'admin-secret',
  APP_ADMIN_REFRESH_MARGIN_SECONDS: '5',
};

function problemsOf(env: Env): string[] {
  try { loadConfig(env); } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig with APPS (contract §8)', () => {
  it('without APPS returns one configuration with no app and no apps list', () => {
    const c = loadConfig({ ...SHARED, OIDC_CLIENT_ID: 'spa' });
    expect(c.app).toBeUndefined();
    expect(c.apps).toBeUndefined();
    expect(c.cookiePrefix).toBe('th');
  });

  it('gives each app its overrides, shared defaults, base-path redirect URIs, routes and cookie prefix', () => {
    const c = loadConfig(TWO_APPS);
    expect(c.apps?.map((a) => a.app?.id)).toEqual(['shop', 'admin']);
    const [shop, admin] = c.apps!;
    expect(shop!.app).toEqual({ id: 'shop', basePath: '/shop', staticDir: '/shop' });
    expect(shop!.oidc.clientId).toBe('shop-bff');
    expect(shop!.oidc).toMatchObject({ tokenAuthMethod: 'client_secret_basic', clientSecret: 'shared-secret' });
    expect(shop!.oidc.redirectUri).toBe('https://www.example.com/shop/');
    expect(shop!.oidc.postLogoutRedirectUri).toBe('https://www.example.com/shop/');
    expect(shop!.apiRoutes).toEqual([{ prefix: '/shop/api/orders', upstream: 'http://orders:8080/v1' }]);
    expect(shop!.cookiePrefix).toBe('th-shop');
    expect(shop!.refreshMarginSeconds).toBe(30);
    expect(admin!.oidc).toMatchObject({ tokenAuthMethod: 'client_secret_basic', clientSecret: 'admin-secret' });
    expect(admin!.apiRoutes).toEqual([{ prefix: '/admin/api', upstream: 'http://api:8080' }]);
    expect(admin!.cookiePrefix).toBe('th-admin');
    expect(admin!.refreshMarginSeconds).toBe(5);
    expect(c.app?.id).toBe('shop'); // the process-wide object is the first app's, with the list
    expect(Object.isFrozen(c.apps)).toBe(true);
  });

  it('gives each app the credential of its own auth method: a key for private_key_jwt, the secret otherwise', () => {
    const jwk = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
    const [shop, admin] = loadConfig({
      ...TWO_APPS, APP_SHOP_OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', APP_SHOP_OIDC_CLIENT_PRIVATE_KEY: jwk,
    }).apps!;
    expect(shop!.oidc.tokenAuthMethod).toBe('private_key_jwt');
    expect(shop!.oidc).not.toHaveProperty('clientSecret'); // the shared secret is not the key-using app's
    expect(shop!.oidc).toHaveProperty('clientPrivateKey.alg', 'ES256');
    expect(admin!.oidc).toMatchObject({ tokenAuthMethod: 'client_secret_basic', clientSecret: 'admin-secret' });
    expect(admin!.oidc).not.toHaveProperty('clientPrivateKey');
    expect(problemsOf({ ...TWO_APPS, APP_SHOP_OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt' }))
      .toEqual([expect.stringMatching(/^APP_SHOP_OIDC_CLIENT_PRIVATE_KEY \(or OIDC_CLIENT_PRIVATE_KEY\) is missing/)]);
  });

  it('derives a host-based app: own origin, base path /, static files from public/<id>/', () => {
    const c = loadConfig({ ...TWO_APPS, APPS: 'shop,admin,ops', APP_OPS_PUBLIC_ORIGIN: 'https://ops.example.com', APP_OPS_OIDC_CLIENT_ID: 'ops', APP_OPS_COOKIE_PREFIX: 'ops' });
    const ops = c.apps!.find((a) => a.app?.id === 'ops')!;
    expect(ops.app).toEqual({ id: 'ops', basePath: '/', staticDir: '/ops' });
    expect(ops.oidc.redirectUri).toBe('https://ops.example.com/');
    expect(ops.cookiePrefix).toBe('ops');
  });

  it('names the app variable of a missing required value', () => {
    const { APP_ADMIN_OIDC_CLIENT_ID: _drop, ...env } = TWO_APPS;
    const problems = problemsOf(env);
    expect(problems.some((p) => p.startsWith('APP_ADMIN_OIDC_CLIENT_ID (or OIDC_CLIENT_ID) is missing'))).toBe(true);
  });

  it('names the app variable that holds a bad value', () => {
    const problems = problemsOf({ ...TWO_APPS, APP_SHOP_REFRESH_GRACE_SECONDS: 'soon', APP_ADMIN_API_ROUTES: '/orders=http://x' });
    expect(problems.some((p) => p.startsWith('APP_SHOP_REFRESH_GRACE_SECONDS '))).toBe(true);
    expect(problems.some((p) => p.startsWith('API_ROUTES ') || p.startsWith('APP_ADMIN_API_ROUTES '))).toBe(true);
    expect(problems.some((p) => p.startsWith('APP_ADMIN_API_ROUTES '))).toBe(true);
  });

  it('refuses an APP_* variable of an id not in APPS, and an unknown per-app variable', () => {
    const problems = problemsOf({ ...TWO_APPS, APP_BLOG_OIDC_CLIENT_ID: 'x', APP_SHOP_OIDC_CLIENT_IDD: 'y' });
    expect(problems.some((p) => p.startsWith('APP_BLOG_OIDC_CLIENT_ID names no app'))).toBe(true);
    expect(problems.some((p) => p.startsWith('APP_SHOP_OIDC_CLIENT_IDD names no app'))).toBe(true);
  });

  it('refuses process-wide variables set per app', () => {
    const problems = problemsOf({ ...TWO_APPS, APP_SHOP_PORT: '3001' });
    expect(problems.some((p) => p.startsWith('APP_SHOP_PORT cannot be set per app'))).toBe(true);
  });

  it('refuses bad ids in APPS and duplicates', () => {
    expect(problemsOf({ ...TWO_APPS, APPS: 'Shop,admin' }).some((p) => p.startsWith('APPS has "Shop"'))).toBe(true);
    expect(problemsOf({ ...TWO_APPS, APPS: 'shop,shop' }).some((p) => p.startsWith('APPS lists an id twice'))).toBe(true);
  });

  it('refuses two apps with the same origin and base path, naming both', () => {
    const problems = problemsOf({ ...TWO_APPS, APP_ADMIN_BASE_PATH: '/shop' });
    const p = problems.find((x) => x.includes('same origin and base path'));
    expect(p).toContain('APP_SHOP_BASE_PATH');
    expect(p).toContain('APP_ADMIN_BASE_PATH');
  });

  it('refuses nested base paths on one origin, including an app at / beside a path-based one', () => {
    expect(problemsOf({ ...TWO_APPS, APP_ADMIN_BASE_PATH: '/shop/admin' }).some((p) => p.includes('overlap'))).toBe(true);
    expect(problemsOf({ ...TWO_APPS, APP_ADMIN_BASE_PATH: '/' }).some((p) => p.includes('overlap'))).toBe(true);
    // A segment boundary: /shop and /shopping do not nest.
    expect(loadConfig({ ...TWO_APPS, APP_ADMIN_BASE_PATH: '/shopping' }).apps).toHaveLength(2);
  });

  it('refuses colliding cookie prefixes on one host, also across ports (cookies ignore ports)', () => {
    const same = problemsOf({ ...TWO_APPS, APP_SHOP_COOKIE_PREFIX: 'x', APP_ADMIN_COOKIE_PREFIX: 'X' });
    expect(same.some((p) => p.startsWith('APP_SHOP_COOKIE_PREFIX and APP_ADMIN_COOKIE_PREFIX'))).toBe(true);
    const ports = problemsOf({
      ...TWO_APPS, APP_ADMIN_BASE_PATH: '/', APP_ADMIN_PUBLIC_ORIGIN: 'https://www.example.com:8443',
      APP_SHOP_COOKIE_PREFIX: 'x', APP_ADMIN_COOKIE_PREFIX: 'x',
    });
    expect(ports.some((p) => p.includes('same cookie prefix'))).toBe(true);
  });

  it('refuses malformed and reserved base paths', () => {
    for (const bad of ['shop', '/shop/', '/sh op', '/api', '/oauth-agent/x', '/_next']) {
      expect(problemsOf({ ...TWO_APPS, APP_SHOP_BASE_PATH: bad }).some((p) => p.startsWith('APP_SHOP_BASE_PATH ')), bad).toBe(true);
    }
  });
});
