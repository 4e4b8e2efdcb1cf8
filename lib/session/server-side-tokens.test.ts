// Where a session's tokens go (docs/contract.md §7 "Big tokens"), against a real redis-server: small
// sessions stay in cookies, big ones move to the store and back out of it, a refresh retires the old
// entry to the grace window, logout removes it, a lost entry ends the session, and an outage degrades
// (new sessions keep chunked cookies; a stored session waits for the store without losing its cookies).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../../e2e/harness/redis-server';
import { loadConfig, type Config } from '../config';
import { CookieJar } from '../cookies/cookie-jar';
import { SessionCookies, type Session } from '../cookies/session-cookies';
import { ThError } from '../errors';
import { getSessionStore } from '../store/redis-client';
import { cookieHeaderBytes, loadStoredTokens, placeSessionTokens, removeStoredTokens, withStoredTokens } from './server-side-tokens';

let redis: RunningRedis;
let config: Config;
let cookies: SessionCookies;
const now = Math.floor(Date.now() / 1000);
// A groups-style access token of about 12 KB, as the local identity server issues with accessTokenBytes.
const bigAccessToken = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'alice', groups: Array.from({ length: 700 }, (_, i) => `group-${i}`) })).toString('base64url')}.c2ln`;

function session(accessToken: string): Session {
  return cookies.create({ accessToken, accessTokenExpiresAt: now + 300, refreshToken: `rt-${randomBytes(8).toString('hex')}`, idToken: 'eyJ.id.token' }, now);
}

/** The Cookie header a browser would send back after these Set-Cookie lines. */
const cookieHeader = (lines: string[]) => lines.filter((l) => !/Max-Age=0/.test(l)).map((l) => l.split(';', 1)[0]).join('; ');
const ttl = async (key: string) => Number((await redis.command(['TTL', key])).replace(/^:/, ''));
const vaultKeys = async () => (await redis.dump()).filter((e) => e.key.startsWith('sst:t:'));

beforeAll(async () => {
  redis = await startRedis();
  config = loadConfig({
    PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
    COOKIE_KEYS: randomBytes(32).toString('hex'), API_ROUTES: '/api=http://127.0.0.1:4001',
    SESSION_STORE_URL: redis.url, SESSION_STORE_PREFIX: 'sst:', REFRESH_GRACE_SECONDS: '30',
  });
  cookies = new SessionCookies(config);
}, 20_000);
afterAll(async () => {
  try { await getSessionStore(config)?.close(); } finally { await redis?.stop(); }
});

describe('server-side tokens for big sessions', () => {
  it('keeps a small session in its cookies and writes nothing to the store', async () => {
    const small = session('eyJ.small.token');
    expect(await placeSessionTokens(small, cookies, config)).toEqual(small);
    expect(await vaultKeys()).toEqual([]);
  });

  it('moves a 12 KB session to the store: cookies under 8 KiB in all, no token in them or readable in the store', async () => {
    const big = session(bigAccessToken);
    expect(cookieHeaderBytes(cookies.write(new CookieJar(null), big, now))).toBeGreaterThan(8 * 1024);
    const placed = await placeSessionTokens(big, cookies, config, undefined, now);
    expect(placed.stored).toBeDefined();
    expect(placed.accessToken).toBe(bigAccessToken); // this request still has them
    const lines = cookies.write(new CookieJar(null), placed, now);
    expect(cookieHeaderBytes(lines)).toBeLessThan(1024);
    const header = cookieHeader(lines);
    for (const token of [bigAccessToken, big.refreshToken!, big.idToken!]) expect(header).not.toContain(token);

    const entries = await vaultKeys();
    expect(entries).toHaveLength(1);
    for (const token of [bigAccessToken, big.refreshToken!, big.idToken!]) expect(entries[0]!.value).not.toContain(token);
    expect(await ttl(entries[0]!.key)).toBeGreaterThan(config.sessionMaxAgeSeconds - 60); // the session's remaining life

    // Read back from the cookies alone, as another request (or instance) does.
    const read = cookies.read(new CookieJar(header));
    expect(read.status).toBe('ok');
    const loaded = await withStoredTokens((read as { value: Session }).value, config, () => []);
    expect([loaded.accessToken, loaded.refreshToken, loaded.idToken]).toEqual([bigAccessToken, big.refreshToken, big.idToken]);
    await redis.command(['FLUSHALL']);
  });

  it('a refresh writes a new entry and keeps the old one for REFRESH_GRACE_SECONDS only; logout removes the new one', async () => {
    const first = await placeSessionTokens(session(bigAccessToken), cookies, config, undefined, now);
    const refreshed = await placeSessionTokens({ ...first, accessToken: `${bigAccessToken}x`, refreshToken: 'rt-next' }, cookies, config, first.stored, now);
    expect(refreshed.stored).toBeDefined();
    expect(refreshed.stored).not.toEqual(first.stored);
    const entries = await vaultKeys();
    expect(entries).toHaveLength(2);
    const ttls = (await Promise.all(entries.map((e) => ttl(e.key)))).sort((a, b) => a - b);
    expect(ttls[0]).toBeLessThanOrEqual(30); // the old one: the grace window
    expect(ttls[1]).toBeGreaterThan(30);
    // A late request with the old cookies still finds the old tokens inside the window.
    expect((await loadStoredTokens(first.stored!, config, first, () => [])).refreshToken).toBe(first.refreshToken);

    await removeStoredTokens(refreshed.stored, config, refreshed.sid);
    expect(await vaultKeys()).toHaveLength(1);
    await redis.command(['FLUSHALL']);
  });

  it('a session that shrinks below the limit on refresh goes back to cookies and retires its entry', async () => {
    const first = await placeSessionTokens(session(bigAccessToken), cookies, config, undefined, now);
    const small = await placeSessionTokens({ ...first, accessToken: 'eyJ.small.again' }, cookies, config, first.stored, now);
    expect(small.stored).toBeUndefined();
    const [entry] = await vaultKeys();
    expect(await ttl(entry!.key)).toBeLessThanOrEqual(30);
    await redis.command(['FLUSHALL']);
  });

  it('an entry that is gone (or that another key does not open) ends the session with its cookies cleared', async () => {
    const placed = await placeSessionTokens(session(bigAccessToken), cookies, config, undefined, now);
    await redis.command(['FLUSHALL']);
    // A fresh reference no instance has opened yet, so nothing comes from memory.
    const err = await loadStoredTokens({ ...placed.stored!, r: randomBytes(16).toString('base64url') }, config, placed, () => ['cleared=; Max-Age=0'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThError);
    expect((err as ThError).code).toBe('session_expired');
    expect((err as ThError).headers).toEqual([['set-cookie', 'cleared=; Max-Age=0']]);
  });

  it('while the store is down: a new big session keeps chunked cookies, a stored one answers server_error and keeps its cookies', async () => {
    const stored = await placeSessionTokens(session(bigAccessToken), cookies, config, undefined, now);
    await redis.stop();
    const big = session(bigAccessToken);
    const placed = await placeSessionTokens(big, cookies, config, undefined, now);
    expect(placed.stored).toBeUndefined();
    expect(cookies.read(new CookieJar(cookieHeader(cookies.write(new CookieJar(null), placed, now))))).toMatchObject({
      status: 'ok', value: { accessToken: bigAccessToken },
    });
    const err = await loadStoredTokens({ ...stored.stored!, r: randomBytes(16).toString('base64url') }, config, stored, () => ['cleared'])
      .catch((e: unknown) => e);
    expect((err as ThError).code).toBe('server_error');
    expect((err as ThError).headers).toEqual([]);
    // What this instance opened before the outage still serves (entries never change).
    expect((await loadStoredTokens(stored.stored!, config, stored, () => [])).accessToken).toBe(bigAccessToken);
  });
});
