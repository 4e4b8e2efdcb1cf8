import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { CookieJar } from './cookie-jar';
import { MAX_COOKIE_NAME_VALUE_BYTES } from './chunked-cookie';
import { SessionCookies, type Session } from './session-cookies';

const config = loadConfig({
  PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: randomBytes(32).toString('hex'), API_ROUTES: '/api=http://127.0.0.1:4001',
});
const cookies = new SessionCookies(config);
const now = Math.floor(Date.now() / 1000);

/** What a browser would send back after receiving these Set-Cookie lines. */
function browserJar(setCookies: string[], previous = ''): CookieJar {
  const store = new Map<string, string>();
  for (const c of previous.split('; ').filter(Boolean)) { const i = c.indexOf('='); store.set(c.slice(0, i), c.slice(i + 1)); }
  for (const line of setCookies) {
    const [pair] = line.split(';');
    const i = pair!.indexOf('=');
    if (/Max-Age=0/.test(line)) store.delete(pair!.slice(0, i)); else store.set(pair!.slice(0, i), pair!.slice(i + 1));
  }
  return new CookieJar([...store].map(([k, v]) => `${k}=${v}`).join('; '));
}
const header = (jar: CookieJar) => jar.names().map((n) => `${n}=${jar.get(n)}`).join('; ');

function newSession(accessToken = 'at-' + 'x'.repeat(900)): Session {
  return cookies.create({ accessToken, accessTokenExpiresAt: now + 300, refreshToken: 'rt-value', idToken: 'id.token.value' }, now);
}

describe('SessionCookies', () => {
  it('writes HttpOnly, SameSite=Strict, Secure, Path=/ cookies with the __Host- prefix on localhost', () => {
    const lines = cookies.write(new CookieJar(''), newSession());
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(l).toMatch(/^__Host-th-(at|rt|id|csrf)=/);
      expect(l).toContain('; Path=/');
      expect(l).toContain('; HttpOnly');
      expect(l).toContain('; SameSite=Strict');
      expect(l).toContain('; Secure');
      expect(l).not.toMatch(/Domain=/i);
      expect(l).not.toContain('rt-value');
    }
  });

  it('reads back the same session', () => {
    const s = newSession();
    const read = cookies.read(browserJar(cookies.write(new CookieJar(''), s)));
    expect(read).toEqual({ status: 'ok', value: s });
  });

  it('keeps the access token\'s issue time (its lifetime caps the proxy\'s refresh margin)', () => {
    const s = { ...newSession(), accessTokenIssuedAt: now - 10 };
    const read = cookies.read(browserJar(cookies.write(new CookieJar(''), s)));
    expect(read.status === 'ok' && read.value.accessTokenIssuedAt).toBe(now - 10);
  });

  it('records the identity server\'s sid, sub, iss and the creation time in the csrf cookie, and reads them back', () => {
    const s = cookies.create({ accessToken: 'at', accessTokenExpiresAt: now + 300, refreshToken: 'rt' }, now, { idpSid: 'op-sid-1', sub: 'alice', iss: 'http://127.0.0.1:4000' });
    expect(s).toMatchObject({ idpSid: 'op-sid-1', sub: 'alice', iss: 'http://127.0.0.1:4000', createdAt: now });
    const jar = browserJar(cookies.write(new CookieJar(''), s));
    expect(cookies.read(jar)).toEqual({ status: 'ok', value: s });
    // The proxy opens only the csrf and at cookies: the csrf cookie alone carries them.
    const csrf = cookies.open(jar, 'csrf');
    expect(csrf.status === 'ok' && csrf.value).toMatchObject({ d: 'op-sid-1', u: 'alice', n: 'http://127.0.0.1:4000', c: now });
  });

  it('still opens a csrf cookie sealed before the principal and creation time were recorded', () => {
    const s = newSession();
    const jar = browserJar(cookies.write(new CookieJar(''), s));
    const legacyCsrf = cookies.codec.seal('csrf', JSON.stringify({ s: s.sid, v: s.csrf, x: s.expiresAt }), s.expiresAt);
    const read = cookies.read(new CookieJar(header(jar).replace(/__Host-th-csrf=[^;]+/, `__Host-th-csrf=${legacyCsrf}`)));
    expect(read.status).toBe('ok');
    if (read.status !== 'ok') return;
    expect(read.value.csrf).toBe(s.csrf);
    expect(read.value.createdAt).toBeUndefined();
    expect(read.value.idpSid).toBeUndefined();
    expect(read.value.sub).toBeUndefined();
  });

  it('still reads an access-token cookie written before the issue time was recorded', () => {
    const s = newSession('older-token');
    const jar = browserJar(cookies.write(new CookieJar(''), s));
    const legacyAt = cookies.codec.seal('at', JSON.stringify({ s: s.sid, v: 'older-token', x: s.accessTokenExpiresAt }), s.expiresAt);
    const read = cookies.read(new CookieJar(header(jar).replace(/__Host-th-at=[^;]+/, `__Host-th-at=${legacyAt}`)));
    expect(read.status).toBe('ok');
    if (read.status !== 'ok') return;
    expect(read.value.accessToken).toBe('older-token');
    expect(read.value.accessTokenExpiresAt).toBe(s.accessTokenExpiresAt);
    expect(read.value.accessTokenIssuedAt).toBeUndefined();
  });

  it('reports absent when no session cookie is sent, invalid when one is tampered', () => {
    expect(cookies.read(new CookieJar('other=1')).status).toBe('absent');
    const jar = browserJar(cookies.write(new CookieJar(''), newSession()));
    const tampered = header(jar).replace(/(__Host-th-at=)(.)/, (_, n, c) => n + (c === 'A' ? 'B' : 'A'));
    expect(cookies.read(new CookieJar(tampered)).status).toBe('invalid');
  });

  it('refuses cookies of two sessions mixed together', () => {
    const a = browserJar(cookies.write(new CookieJar(''), newSession('token-of-alice')));
    const b = browserJar(cookies.write(new CookieJar(''), newSession('token-of-bob')));
    const mixed = new CookieJar(`__Host-th-at=${a.get('__Host-th-at')}; __Host-th-csrf=${b.get('__Host-th-csrf')}`);
    expect(cookies.read(mixed).status).toBe('invalid');
  });

  it('refuses a valid cookie of one kind placed in another kind\'s slot', () => {
    const jar = browserJar(cookies.write(new CookieJar(''), newSession()));
    const swapped = new CookieJar(`__Host-th-at=${jar.get('__Host-th-id')}; __Host-th-csrf=${jar.get('__Host-th-csrf')}`);
    expect(cookies.read(swapped).status).toBe('invalid');
  });

  it('refuses a duplicated cookie name', () => {
    const jar = browserJar(cookies.write(new CookieJar(''), newSession()));
    expect(cookies.read(new CookieJar(`${header(jar)}; __Host-th-csrf=${jar.get('__Host-th-csrf')}`)).status).toBe('invalid');
  });

  it('splits a 6 KB token across chunks under 4096 bytes each and re-joins it', () => {
    const big = 'T'.repeat(6 * 1024);
    const lines = cookies.write(new CookieJar(''), newSession(big));
    const atLines = lines.filter((l) => l.startsWith('__Host-th-at-'));
    expect(atLines.length).toBeGreaterThanOrEqual(2);
    for (const l of atLines) expect(l.split(';')[0]!.length).toBeLessThanOrEqual(MAX_COOKIE_NAME_VALUE_BYTES);
    const read = cookies.read(browserJar(lines));
    expect(read.status === 'ok' && read.value.accessToken).toBe(big);
  });

  it('clears stale chunks when a large token is replaced by a small one', () => {
    const first = browserJar(cookies.write(new CookieJar(''), newSession('T'.repeat(6 * 1024))));
    const s2 = newSession('small');
    const lines = cookies.write(first, s2);
    expect(lines.filter((l) => /^__Host-th-at-\d=; .*Max-Age=0/.test(l)).length).toBeGreaterThanOrEqual(2);
    const after = browserJar(lines, header(first));
    expect(after.names().filter((n) => n.startsWith('__Host-th-at-'))).toEqual([]);
    const read = cookies.read(after);
    expect(read.status === 'ok' && read.value.accessToken).toBe('small');
  });

  it('clears every session cookie and chunk with Max-Age=0 and the same attributes', () => {
    const jar = browserJar(cookies.write(new CookieJar(''), newSession('T'.repeat(6 * 1024))));
    const lines = cookies.clear(jar);
    const cleared = lines.map((l) => l.split('=')[0]);
    for (const n of jar.names()) expect(cleared).toContain(n);
    for (const l of lines) expect(l).toMatch(/Max-Age=0.*Path=\/|Path=\/.*Max-Age=0/);
    expect(browserJar(lines, header(jar)).names()).toEqual([]);
  });

  it('an old session opens after key rotation (new key first, old key kept)', () => {
    const oldJar = browserJar(cookies.write(new CookieJar(''), newSession('before-rotation')));
    const rotated = new SessionCookies(loadConfig({
      PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
      COOKIE_KEYS: `${randomBytes(32).toString('hex')},${config.cookieKeys[0]!.toString('hex')}`, API_ROUTES: '/api=http://127.0.0.1:4001',
    }));
    const read = rotated.read(oldJar);
    expect(read.status === 'ok' && read.value.accessToken).toBe('before-rotation');
  });

  describe('with opened cookies cached (the proxy\'s instance)', () => {
    const cached = () => {
      const c = new SessionCookies(config, { cacheOpened: { maxEntries: 10, maxChars: 100_000 } });
      const codec = c.codec;
      let decrypts = 0;
      const open = codec.openWithExpiry.bind(codec);
      codec.openWithExpiry = (...args) => { decrypts++; return open(...args); };
      return { c, decrypts: () => decrypts };
    };

    it('decrypts each sealed access-token and CSRF value once and answers the same record afterwards', () => {
      const { c, decrypts } = cached();
      const s = newSession();
      const jar = browserJar(c.write(new CookieJar(''), s));
      const first = c.open(jar, 'at', s.sid);
      expect(c.open(jar, 'csrf').status).toBe('ok');
      expect(decrypts()).toBe(2);
      for (let i = 0; i < 5; i++) {
        expect(c.open(new CookieJar(header(jar)), 'at', s.sid)).toEqual(first);
        expect(c.open(new CookieJar(header(jar)), 'csrf').status).toBe('ok');
      }
      expect(decrypts()).toBe(2);
      expect(first.status === 'ok' && first.value.v).toBe(s.accessToken);
      // Shared between requests: frozen, so no caller can change what the next request sees.
      expect(first.status === 'ok' && Object.isFrozen(first.value)).toBe(true);
    });

    it('never caches a tampered value: it is refused every time, by the codec', () => {
      const { c, decrypts } = cached();
      const s = newSession();
      const jar = browserJar(c.write(new CookieJar(''), s));
      const tampered = new CookieJar(header(jar).replace(/(__Host-th-at=.{20})(.)/, (_, head, ch) => head + (ch === 'A' ? 'B' : 'A')));
      for (let i = 0; i < 3; i++) expect(c.open(tampered, 'at', s.sid).status).toBe('invalid');
      expect(decrypts()).toBe(3);
      expect(c.open(jar, 'at', s.sid).status).toBe('ok');
    });

    it('still refuses a cached cookie of another session, and one in another kind\'s slot', () => {
      const { c } = cached();
      const alice = newSession('token-of-alice');
      const bob = newSession('token-of-bob');
      const a = browserJar(c.write(new CookieJar(''), alice));
      expect(c.open(a, 'at', alice.sid).status).toBe('ok');
      expect(c.open(a, 'at', bob.sid).status).toBe('invalid');
      const swapped = new CookieJar(`__Host-th-csrf=${a.get('__Host-th-at')}`);
      expect(c.open(swapped, 'csrf').status).toBe('invalid');
    });

    it('refuses a cached cookie once its sealed expiry has passed, as the codec would', () => {
      const { c } = cached();
      const s = newSession();
      const jar = browserJar(c.write(new CookieJar(''), s));
      expect(c.open(jar, 'at', s.sid, s.expiresAt - 1).status).toBe('ok');
      expect(c.open(jar, 'at', s.sid, s.expiresAt).status).toBe('invalid');
      expect(c.open(jar, 'at', s.sid, s.expiresAt + 100).status).toBe('invalid');
    });

    it('does not cache the refresh-token and ID-token cookies', () => {
      const { c, decrypts } = cached();
      const s = newSession();
      const jar = browserJar(c.write(new CookieJar(''), s));
      c.open(jar, 'rt', s.sid);
      c.open(jar, 'rt', s.sid);
      c.open(jar, 'id', s.sid);
      c.open(jar, 'id', s.sid);
      expect(decrypts()).toBe(4);
    });
  });
});

describe('SessionCookies: a session whose tokens are in the store (docs/contract.md §7 "Big tokens")', () => {
  const stored = { r: randomBytes(16).toString('base64url'), k: randomBytes(32).toString('base64url') };
  const big = () => ({ ...newSession('at-' + 'x'.repeat(12_000)), stored });

  it('writes only the reference and the token expiry: no token, no rt or id cookie, a few hundred bytes', () => {
    const session = big();
    const lines = cookies.write(new CookieJar(''), session);
    expect(lines.map((l) => l.split('=')[0]).sort()).toEqual(['__Host-th-at', '__Host-th-csrf']);
    expect(lines.join('\n').length).toBeLessThan(1200);
    const read = cookies.read(browserJar(lines));
    expect(read.status).toBe('ok');
    const value = (read as { value: Session }).value;
    expect(value.stored).toEqual(stored);
    expect(value.sid).toBe(session.sid);
    expect(value.csrf).toBe(session.csrf);
    expect(value.accessTokenExpiresAt).toBe(session.accessTokenExpiresAt);
    expect(value.accessToken).toBe('');
    expect(value.refreshToken).toBeUndefined();
    expect(value.idToken).toBeUndefined();
  });

  it('clears the rt and id cookies of the tokens-in-cookies session it replaces, and the reference when it shrinks back', () => {
    const inCookies = newSession('at-' + 'x'.repeat(12_000));
    const before = browserJar(cookies.write(new CookieJar(''), inCookies));
    const storedLines = cookies.write(before, { ...inCookies, stored });
    const after = browserJar(storedLines, header(before));
    expect(after.names().filter((n) => /-(rt|id)(-\d+)?$/.test(n))).toEqual([]);
    expect(after.names().filter((n) => /-at-\d+$/.test(n))).toEqual([]); // the at chunks are gone too
    const back = browserJar(cookies.write(after, inCookies), header(after));
    const read = cookies.read(back) as { status: string; value: Session };
    expect(read.status).toBe('ok');
    expect(read.value.stored).toBeUndefined();
    expect(read.value.refreshToken).toBe('rt-value');
  });

  it('refuses a stored session mixed with an rt cookie, and a malformed reference', () => {
    const session = big();
    const lines = cookies.write(new CookieJar(''), session);
    const rtLine = cookies.write(new CookieJar(''), { ...session, stored: undefined }).find((l) => l.startsWith('__Host-th-rt='))!;
    expect(cookies.read(browserJar([...lines, rtLine])).status).toBe('invalid');
    const malformed = cookies.write(new CookieJar(''), { ...session, stored: { r: 'short', k: stored.k } });
    expect(cookies.read(browserJar(malformed)).status).toBe('invalid');
  });
});
