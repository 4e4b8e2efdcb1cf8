import { describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../config';
import { CookieJar } from '../cookies/cookie-jar';
import { SESSION_COOKIE_KINDS, SessionCookies } from '../cookies/session-cookies';
import { loginCookieName, writeLoginTransaction, readLoginTransaction } from '../oauth-agent/login-transaction';
import { generateDpopKey } from '../oidc/dpop';

const ENV: Env = {
  PUBLIC_ORIGIN: 'https://www.example.com',
  OIDC_ISSUER: 'https://login.example.com',
  OIDC_CLIENT_ID: 'c',
  OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: 'c'.repeat(64),
  API_ROUTES: '/api=http://api:8080',
  APPS: 'shop,admin,ops',
  APP_SHOP_BASE_PATH: '/shop',
  APP_ADMIN_BASE_PATH: '/admin',
  APP_OPS_PUBLIC_ORIGIN: 'https://ops.example.com',
};
const [shop, admin, ops] = loadConfig(ENV).apps!;
// A DPoP session (RFC 9449), so every slot, the dpop key's included, is written and checked.
const tokens = { accessToken: 'at-value', accessTokenExpiresAt: Math.floor(Date.now() / 1000) + 300, refreshToken: 'rt-value', idToken: 'id-value', dpopKey: generateDpopKey() };

/** The browser's Cookie header for Set-Cookie lines, each renamed by `rename`. */
const jarOf = (lines: string[], rename = (n: string) => n) =>
  new CookieJar(lines.map((l) => l.split(';')[0]!).map((pair) => { const eq = pair.indexOf('='); return `${rename(pair.slice(0, eq))}=${pair.slice(eq + 1)}`; }).join('; '));

describe('cookies of several apps (contract §8)', () => {
  it('path-based apps: __Secure- names and Path=<base path>; host-based apps keep __Host- and Path=/', () => {
    const lines = new SessionCookies(shop!).write(new CookieJar(''), new SessionCookies(shop!).create(tokens));
    expect(lines.length).toBe(5);
    for (const l of lines) {
      expect(l).toMatch(/^__Secure-th-shop-(at|rt|id|csrf|dpop)=/);
      expect(l).toContain('; Path=/shop;');
      expect(l).toContain('; Secure');
    }
    for (const l of new SessionCookies(shop!).clear(new CookieJar(''))) expect(l).toContain('; Path=/shop;');
    const opsLines = new SessionCookies(ops!).write(new CookieJar(''), new SessionCookies(ops!).create(tokens));
    for (const l of opsLines) { expect(l).toMatch(/^__Host-th-ops-/); expect(l).toContain('; Path=/;'); }
  });

  it('a cookie of one app under another app\'s names never opens, with the same COOKIE_KEYS, in every slot', () => {
    for (const [from, to] of [[shop!, admin!], [admin!, shop!], [shop!, ops!], [ops!, admin!]] as const) {
      const fromCookies = new SessionCookies(from);
      const toCookies = new SessionCookies(to);
      const lines = fromCookies.write(new CookieJar(''), fromCookies.create(tokens));
      const renamed = jarOf(lines, (n) => n.replace(`${from.cookiePrefix}-`, `${to.cookiePrefix}-`).replace(/^__(Host|Secure)-/, to.app!.basePath === '/' ? '__Host-' : '__Secure-'));
      for (const kind of SESSION_COOKIE_KINDS) {
        expect(renamed.has(toCookies.name(kind)), kind).toBe(true);
        expect(toCookies.open(renamed, kind).status, `${from.app!.id}→${to.app!.id} ${kind}`).toBe('invalid');
      }
      expect(toCookies.read(renamed).status).toBe('invalid');
      // The same cookies under their own names open (the test above can fail).
      expect(fromCookies.read(jarOf(lines)).status).toBe('ok');
    }
  });

  it('a login transaction of one app does not open in another', () => {
    const t = { state: 'st', nonce: 'n', codeVerifier: 'v', issuer: 'https://login.example.com' };
    const shopCookies = new SessionCookies(shop!);
    const line = writeLoginTransaction(shop!, shopCookies.codec, t as never);
    expect(line).toContain('; Path=/shop;');
    const value = line.split(';')[0]!.split('=').slice(1).join('=');
    const jar = new CookieJar(`${loginCookieName(admin!, 'st')}=${value}`);
    expect(readLoginTransaction(admin!, new SessionCookies(admin!).codec, jar, 'st')).toBeUndefined();
    expect(readLoginTransaction(shop!, shopCookies.codec, new CookieJar(`${loginCookieName(shop!, 'st')}=${value}`), 'st')?.state).toBe('st');
  });
});
