// The session's DPoP key cookie (OIDC_DPOP, docs/contract.md §10): sealed for its own purpose and session,
// kept across a rewrite (refresh), cleared with the others, absent for sessions without DPoP.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { generateDpopKey } from '../oidc/dpop';
import { CookieJar } from './cookie-jar';
import { SessionCookies } from './session-cookies';

const config = loadConfig({
  PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: randomBytes(32).toString('hex'), API_ROUTES: '/api=http://127.0.0.1:4001', OIDC_DPOP: 'true',
});
const cookies = new SessionCookies(config);
const now = Math.floor(Date.now() / 1000);
const toHeader = (lines: string[]) => lines.filter((l) => !/Max-Age=0/.test(l)).map((l) => l.split(';')[0]).join('; ');
const tokens = { accessToken: 'at', accessTokenExpiresAt: now + 300, refreshToken: 'rt', idToken: 'id.token.value' };

describe('the dpop session cookie', () => {
  it('round-trips the key, and a rewrite with new tokens keeps it', () => {
    const dpopKey = generateDpopKey();
    const session = cookies.create({ ...tokens, dpopKey }, now);
    const lines = cookies.write(new CookieJar(''), session, now);
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toContain('__Host-th-dpop');
    const read = cookies.read(new CookieJar(toHeader(lines)));
    expect(read.status === 'ok' && read.value.dpopKey).toBe(dpopKey);
    const rewritten = cookies.write(new CookieJar(toHeader(lines)), { ...session, accessToken: 'at2' }, now);
    const again = cookies.read(new CookieJar(toHeader(rewritten)));
    expect(again.status === 'ok' && [again.value.accessToken, again.value.dpopKey]).toEqual(['at2', dpopKey]);
  });

  it('is neither written nor cleared for a session without DPoP', () => {
    const lines = cookies.write(new CookieJar(''), cookies.create(tokens, now), now);
    expect(lines.some((l) => l.startsWith('__Host-th-dpop'))).toBe(false);
    expect(cookies.clear(new CookieJar(toHeader(lines))).some((l) => l.startsWith('__Host-th-dpop'))).toBe(false);
  });

  it('is cleared with the others, and one from another session or with another purpose invalidates the session', () => {
    const a = cookies.write(new CookieJar(''), cookies.create({ ...tokens, dpopKey: generateDpopKey() }, now), now);
    const b = cookies.write(new CookieJar(''), cookies.create({ ...tokens, dpopKey: generateDpopKey() }, now), now);
    expect(cookies.clear(new CookieJar(toHeader(a))).some((l) => l.startsWith('__Host-th-dpop=;'))).toBe(true);
    const foreignKey = b.find((l) => l.startsWith('__Host-th-dpop='))!.split(';')[0]!;
    const mixed = toHeader(a).split('; ').map((c) => (c.startsWith('__Host-th-dpop=') ? foreignKey : c)).join('; ');
    expect(cookies.read(new CookieJar(mixed)).status).toBe('invalid');
    const atValue = a.find((l) => l.startsWith('__Host-th-at='))!.split(';')[0]!.split('=')[1];
    const swapped = toHeader(a).split('; ').map((c) => (c.startsWith('__Host-th-dpop=') ? `__Host-th-dpop=${atValue}` : c)).join('; ');
    expect(cookies.read(new CookieJar(swapped)).status).toBe('invalid');
  });
});
