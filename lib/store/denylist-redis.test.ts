// The store-backed denylist against a real redis-server: two denylists, each with its own store
// connection, stand for two instances. Propagation is polled (bounded), never slept for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../../e2e/harness/redis-server';
import { createStoreDenylist, type RedisSessionDenylist } from './denylist-redis';
import { SessionStore } from './redis-client';
import { StoreCrypto } from './store-crypto';

let redis: RunningRedis;
const opened: Array<{ close(): Promise<void> }> = [];
const ISS = 'https://idp.example';
const now = () => Math.floor(Date.now() / 1000);
const keys = { cookieKeys: [Buffer.alloc(32, 7)], publicOrigin: 'https://app.example', cookiePrefix: '__Host-th' };

function storeFor(url: string, prefix: string, timeoutMs = 200): SessionStore {
  const store = new SessionStore({ url, displayUrl: url, prefix }, { commandTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs });
  opened.push(store);
  return store;
}

async function instance(prefix = 'test:', url = redis.url): Promise<RedisSessionDenylist> {
  const d = createStoreDenylist(storeFor(url, prefix), new StoreCrypto(keys as never));
  opened.unshift(d);
  return d;
}

/** Polls until `check` holds or the bound passes; returns how long it took (ms), or -1. */
async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= ms) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 5));
  }
  return -1;
}

beforeAll(async () => { redis = await startRedis(); }, 20_000);
afterAll(async () => {
  try { for (const o of opened) await o.close(); } finally { await redis?.stop(); }
});

describe('RedisSessionDenylist', () => {
  it('a revocation on one instance reaches the other\'s mirror within 1 s', async () => {
    const [a, b] = [await instance(), await instance()];
    expect(await b.ready(3000)).toBe(true);
    const alice = { sid: 'bff-a', idpSid: 'op-a', iss: ISS, sub: 'alice', createdAt: now() };
    expect(b.isRevoked(alice)).toBe(false);
    await a.revoke({ kind: 'idp-session', iss: ISS, idpSid: 'op-a' }, now() + 600);
    expect(a.isRevoked(alice)).toBe(true); // at once on the instance that received it
    const ms = await within(1000, () => b.isRevoked(alice));
    console.log(`denylist propagation between two instances: ${ms} ms`);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(b.isRevoked({ ...alice, sid: 'bff-b', idpSid: 'op-other' })).toBe(false);
  });

  it('an instance started later loads the revocations already in the store', async () => {
    const a = await instance();
    await a.ready(3000);
    await a.revoke({ kind: 'session', sid: 'bff-before' }, now() + 600);
    await a.revoke({ kind: 'subject', iss: ISS, sub: 'bob', before: now() }, now() + 600);
    const late = await instance();
    expect(await late.ready(3000)).toBe(true);
    expect(late.isRevoked({ sid: 'bff-before' })).toBe(true);
    expect(late.isRevoked({ sid: 'x', iss: ISS, sub: 'bob', createdAt: now() - 10 })).toBe(true);
    expect(late.isRevoked({ sid: 'bff-other' })).toBe(false);
  });

  it('a logout token\'s jti is claimed once across instances (SET NX)', async () => {
    const [a, b] = [await instance(), await instance()];
    await Promise.all([a.ready(3000), b.ready(3000)]);
    expect(await a.claimLogoutToken(ISS, 'jti-shared', now() + 600)).toBe(true);
    expect(await b.claimLogoutToken(ISS, 'jti-shared', now() + 600)).toBe(false);
    expect(await b.claimLogoutToken(ISS, 'jti-other', now() + 600)).toBe(true);
  });

  it('keys are keyed hashes under the prefix with the remaining lifetime as TTL; nothing readable at rest', async () => {
    const a = await instance('ttl:');
    await a.ready(3000);
    await a.revoke({ kind: 'idp-session', iss: ISS, idpSid: 'op-secret-sid' }, now() + 120);
    await a.claimLogoutToken(ISS, 'jti-secret', now() + 120);
    const entries = (await redis.dump()).filter((e) => e.key.startsWith('ttl:'));
    expect(entries.map((e) => e.key.replace(/:[A-Za-z0-9_-]{43}$/, ':<hash>')).sort()).toEqual(['ttl:deny:<hash>', 'ttl:jti:<hash>']);
    for (const e of entries) {
      for (const secret of ['op-secret-sid', 'jti-secret', 'idp.example', 'idp-session']) {
        expect(e.key).not.toContain(secret);
        expect(e.value).not.toContain(secret);
      }
      const ttl = Number((await redis.command(['TTL', e.key])).replace(/^:/, ''));
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
    }
  });

  it('instances with other cookie keys cannot read the entries (they are ignored, not applied)', async () => {
    const a = await instance('keys:');
    await a.ready(3000);
    await a.revoke({ kind: 'session', sid: 'bff-foreign' }, now() + 600);
    const other = createStoreDenylist(storeFor(redis.url, 'keys:'), new StoreCrypto({ ...keys, cookieKeys: [Buffer.alloc(32, 9)] } as never));
    opened.unshift(other);
    expect(await other.ready(3000)).toBe(true);
    expect(other.isRevoked({ sid: 'bff-foreign' })).toBe(false);
  });

  it('a store that goes away degrades to this instance\'s memory, and what it missed is exchanged on recovery', async () => {
    const own = await startRedis();
    const [a, b] = [await instance('out:', own.url), await instance('out:', own.url)];
    await Promise.all([a.ready(3000), b.ready(3000)]);
    const port = own.port;
    await own.stop('SIGKILL');
    const started = Date.now();
    await a.revoke({ kind: 'session', sid: 'bff-offline' }, now() + 600);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(a.isRevoked({ sid: 'bff-offline' })).toBe(true);
    expect(b.isRevoked({ sid: 'bff-offline' })).toBe(false); // no store: this instance only
    expect(await a.claimLogoutToken(ISS, 'jti-offline', now() + 600)).toBe(true);
    expect(await a.claimLogoutToken(ISS, 'jti-offline', now() + 600)).toBe(false);
    // Back on the same port: the instance writes what waited, the other loads it on reconnect.
    const again = await startRedis({ port });
    try {
      expect(await within(10_000, () => b.isRevoked({ sid: 'bff-offline' }))).toBeGreaterThanOrEqual(0);
    } finally { await again.stop(); }
  }, 30_000);

  it('a store unreachable at start-up does not hold the start: the denylist works from memory', async () => {
    const dead = await startRedis();
    const url = dead.url;
    await dead.stop('SIGKILL');
    const started = Date.now();
    const d = await instance('dead:', url);
    await d.revoke({ kind: 'session', sid: 'bff-never-stored' }, now() + 600);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(d.isRevoked({ sid: 'bff-never-stored' })).toBe(true);
    expect(await d.ready(300)).toBe(false);
  });
});
