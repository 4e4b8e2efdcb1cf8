import { describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../config';
import { areaOf, configForRequest, pathInApp, selectApp, staticPathFor } from './select-app';

const ENV: Env = {
  PUBLIC_ORIGIN: 'http://localhost:3000',
  OIDC_ISSUER: 'http://127.0.0.1:4000',
  OIDC_CLIENT_ID: 'c',
  OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: 'b'.repeat(64),
  API_ROUTES: '/api=http://127.0.0.1:4001',
  APPS: 'shop,admin,ops',
  APP_SHOP_BASE_PATH: '/shop',
  APP_ADMIN_BASE_PATH: '/admin',
  APP_OPS_PUBLIC_ORIGIN: 'http://127.0.0.1:3000',
};
const config = loadConfig(ENV);
const idOf = (host: string, path: string) => selectApp(config, host, path)?.app?.id;

describe('selectApp (contract §8)', () => {
  it('without APPS is the one configuration, whatever the host and path', () => {
    const single = loadConfig({ ...ENV, APPS: undefined, APP_SHOP_BASE_PATH: undefined, APP_ADMIN_BASE_PATH: undefined, APP_OPS_PUBLIC_ORIGIN: undefined });
    expect(selectApp(single, 'evil.example', '/shop/api')).toBe(single);
  });

  it('selects path-based apps by base path on a segment boundary, host-based apps by Host', () => {
    expect(idOf('localhost:3000', '/shop')).toBe('shop');
    expect(idOf('localhost:3000', '/shop/api/orders')).toBe('shop');
    expect(idOf('LOCALHOST:3000', '/admin/oauth-agent/session')).toBe('admin');
    expect(idOf('localhost:3000', '/shopping')).toBeUndefined();
    expect(idOf('localhost:3000', '/api/x')).toBeUndefined();
    expect(idOf('127.0.0.1:3000', '/api/x')).toBe('ops');
    expect(idOf('127.0.0.1:3000', '/shop/api/x')).toBe('ops'); // ops owns its whole host
    expect(idOf('127.0.0.1:3001', '/')).toBeUndefined();
    expect(selectApp(config, undefined, '/shop')).toBeUndefined();
  });

  it('splits paths into area and file', () => {
    const shop = selectApp(config, 'localhost:3000', '/shop')!;
    const ops = selectApp(config, '127.0.0.1:3000', '/')!;
    expect(pathInApp(shop, '/shop')).toBe('/');
    expect(pathInApp(shop, '/shop/api/x')).toBe('/api/x');
    expect(areaOf('/api/x')).toBe('api');
    expect(areaOf('/oauth-agent/login/start')).toBe('agent');
    expect(areaOf('/apix')).toBe('static');
    expect(staticPathFor(shop, '/orders/1')).toBe('/shop/index.html');
    expect(staticPathFor(shop, '/app.js')).toBe('/shop/app.js');
    expect(staticPathFor(ops, '/')).toBe('/ops/index.html');
    expect(staticPathFor(ops, '/assets/app.css')).toBe('/ops/assets/app.css');
    expect(staticPathFor(ops, '/ops/assets/app.css')).toBe('/ops/assets/app.css');
    expect(staticPathFor(ops, '/ops/reports')).toBe('/ops/index.html');
  });

  it('configForRequest refuses a request no app answers with not_found, never a default app', () => {
    expect(configForRequest(new Request('http://localhost:3000/admin/oauth-agent/session', { headers: { host: 'localhost:3000' } }), config).app?.id).toBe('admin');
    expect(() => configForRequest(new Request('http://localhost:3000/oauth-agent/session', { headers: { host: 'localhost:3000' } }), config))
      .toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});
