// The big-token vault against a real redis-server: round trip, nothing readable at rest, the
// per-session key never in the store, the grace window after a refresh, removal, and an outage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../../e2e/harness/redis-server';
import { SessionStore, StoreUnavailableError } from './redis-client';
import { StoreCrypto } from './store-crypto';
import { SessionTokenVault } from './session-token-vault';

let redis: RunningRedis;
const stores: SessionStore[] = [];
const keys = { cookieKeys: [Buffer.alloc(32, 3)], publicOrigin: 'https://app.example', cookiePrefix: '__Host-th' };
// A 12 KB access token with a groups-style claim, as the padded local identity server issues.
const bigToken = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'alice', groups: Array.from({ length: 600 }, (_, i) => `group-${i}`) })).toString('base64url')}.sig`;
const payload = JSON.stringify({ accessToken: bigToken, refreshToken: 'rt-secret-value', idToken: 'id-secret-value' });

function vaultOn(url: string, prefix = 'vault:'): SessionTokenVault {
  const store = new SessionStore({ url, displayUrl: url, prefix }, { commandTimeoutMs: 200, connectTimeoutMs: 200 });
  stores.push(store);
  return new SessionTokenVault(store, new StoreCrypto(keys as never));
}

beforeAll(async () => { redis = await startRedis(); }, 20_000);
afterAll(async () => {
  try { await Promise.all(stores.map((s) => s.close())); } finally { await redis?.stop(); }
});

describe('SessionTokenVault', () => {
  it('keeps a big session\'s tokens under a keyed-hash name, readable with the cookie\'s reference and key only', async () => {
    const vault = vaultOn(redis.url);
    const ref = await vault.put(payload, 600);
    expect(bigToken.length).toBeGreaterThan(8 * 1024);
    expect(JSON.stringify(ref).length).toBeLessThan(120); // what the cookie carries instead
    expect(await vault.get(ref)).toBe(payload);
    // Another instance (same COOKIE_KEYS, own connection) reads it too.
    expect(await vaultOn(redis.url).get(ref)).toBe(payload);

    const entries = (await redis.dump()).filter((e) => e.key.startsWith('vault:'));
    expect(entries).toHaveLength(1);
    const [{ key, value }] = entries as [{ key: string; value: string }];
    expect(key).toMatch(/^vault:t:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain(ref.r);
    for (const secret of [bigToken.slice(0, 40), 'group-1', 'rt-secret-value', 'id-secret-value', ref.k, ref.r]) expect(value).not.toContain(secret);
    const ttl = Number((await redis.command(['TTL', key])).replace(/^:/, ''));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('a store breach alone reveals nothing: without the cookie\'s key, or moved to another name, it does not open', async () => {
    const vault = vaultOn(redis.url);
    const ref = await vault.put(payload, 600);
    expect(await vault.get({ ...ref, k: Buffer.alloc(32, 1).toString('base64url') })).toBeUndefined();
    const other = await vault.put('other', 600);
    // Copy the first entry's value onto the second's key: bound to its name, it does not open there.
    const names = (await redis.dump()).filter((e) => e.key.startsWith('vault:'));
    const first = names.find((e) => e.value.length > 1000)!;
    const second = names.find((e) => e.value.length < 1000)!;
    await redis.command(['SET', second.key, first.value]);
    expect(await vault.get({ ...other, k: ref.k })).toBeUndefined();
    expect(await vault.get({ r: 'no-such-reference', k: ref.k })).toBeUndefined();
  });

  it('after a refresh the previous entry lives on for the grace window only; logout removes at once', async () => {
    const vault = vaultOn(redis.url, 'grace:');
    const old = await vault.put(payload, 600);
    const next = await vault.put(payload.replace('rt-secret-value', 'rt-rotated'), 600);
    await vault.retire(old, 30);
    expect(await vault.get(old)).toBe(payload);
    const ttls = await Promise.all((await redis.dump()).filter((e) => e.key.startsWith('grace:')).map(async (e) => Number((await redis.command(['TTL', e.key])).replace(/^:/, ''))));
    expect(ttls.sort((a, b) => a - b)[0]).toBeLessThanOrEqual(30);
    expect(ttls.sort((a, b) => a - b)[1]).toBeGreaterThan(590);
    await vault.remove(next);
    expect(await vault.get(next)).toBeUndefined();
    await vault.retire(old, 0);
    expect(await vault.get(old)).toBeUndefined();
  });

  it('a store that is down fails fast with StoreUnavailableError (the caller keeps chunked cookies)', async () => {
    const own = await startRedis();
    const vault = vaultOn(own.url);
    const ref = await vault.put(payload, 600);
    await own.stop('SIGKILL');
    const started = Date.now();
    await expect(vault.get(ref)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(vault.put(payload, 600)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
