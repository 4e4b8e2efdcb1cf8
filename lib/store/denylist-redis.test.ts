// The store-backed denylist against a real redis-server: two denylists with their own connections
// stand for two instances. Propagation is polled (bounded), never slept for.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../e2e/harness/free-port';
import { createRedisSessionDenylist, type RedisSessionDenylist } from './denylist-redis';

let redis: ChildProcess;
let url: string;
const opened: RedisSessionDenylist[] = [];
const ISS = 'https://idp.example';
const now = () => Math.floor(Date.now() / 1000);

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('Ready to accept connections')) { clearTimeout(timer); resolve(); } });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return child;
}

async function instance(prefix = 'test:'): Promise<RedisSessionDenylist> {
  const d = await createRedisSessionDenylist({ url, prefix });
  opened.push(d);
  return d;
}

/** Polls until `check` holds or the bound passes; returns how long it took (ms), or -1. */
async function within(ms: number, check: () => boolean): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= ms) {
    if (check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 5));
  }
  return -1;
}

beforeAll(async () => {
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = await startRedis(port);
}, 20_000);
afterAll(async () => {
  try { await Promise.all(opened.map((d) => d.close())); } finally { redis?.kill('SIGTERM'); }
});

describe('RedisSessionDenylist', () => {
  it('a revocation on one instance reaches the other\'s mirror within 1 s', async () => {
    const [a, b] = [await instance(), await instance()];
    const alice = { sid: 'bff-a', idpSid: 'op-a', iss: ISS, sub: 'alice', createdAt: now() };
    expect(b.isRevoked(alice)).toBe(false);
    await a.revoke({ kind: 'idp-session', iss: ISS, idpSid: 'op-a' }, now() + 600);
    expect(a.isRevoked(alice)).toBe(true); // at once on the instance that received it
    const ms = await within(1000, () => b.isRevoked(alice));
    console.log(`denylist propagation between two instances: ${ms} ms`);
    expect(ms).toBeGreaterThanOrEqual(0);
  });

  it('an instance started later loads the revocations already in the store', async () => {
    const a = await instance();
    await a.revoke({ kind: 'session', sid: 'bff-before' }, now() + 600);
    await a.revoke({ kind: 'subject', iss: ISS, sub: 'bob', before: now() }, now() + 600);
    const late = await instance();
    expect(late.isRevoked({ sid: 'bff-before' })).toBe(true);
    expect(late.isRevoked({ sid: 'x', iss: ISS, sub: 'bob', createdAt: now() - 10 })).toBe(true);
    expect(late.isRevoked({ sid: 'bff-other' })).toBe(false);
  });

  it('a logout token\'s jti is claimed once across instances', async () => {
    const [a, b] = [await instance(), await instance()];
    expect(await a.claimLogoutToken(ISS, 'jti-shared', now() + 600)).toBe(true);
    expect(await b.claimLogoutToken(ISS, 'jti-shared', now() + 600)).toBe(false);
  });

  it('stores each revocation with the TTL it was given, under the prefix', async () => {
    const a = await instance('ttl:');
    await a.revoke({ kind: 'session', sid: 'bff-ttl' }, now() + 120);
    const { createClient } = await import('redis');
    const raw = createClient({ url });
    await raw.connect();
    try {
      const ttl = await raw.ttl('ttl:deny:s:bff-ttl');
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
    } finally { await raw.quit(); }
  });

  it('a store that goes away degrades to this instance\'s memory: revocations still take effect here, promptly', async () => {
    const port = await freePort();
    const own = await startRedis(port);
    const d = await createRedisSessionDenylist({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 200 });
    opened.push(d);
    own.kill('SIGKILL');
    await new Promise((r) => own.once('exit', r));
    const started = Date.now();
    await d.revoke({ kind: 'session', sid: 'bff-offline' }, now() + 600);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(d.isRevoked({ sid: 'bff-offline' })).toBe(true);
    expect(await d.claimLogoutToken(ISS, 'jti-offline', now() + 600)).toBe(true);
    expect(await d.claimLogoutToken(ISS, 'jti-offline', now() + 600)).toBe(false);
  });

  it('a store unreachable at start-up does not hold the start: the denylist works from memory', async () => {
    const started = Date.now();
    const d = await createRedisSessionDenylist({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 200 });
    opened.push(d);
    expect(Date.now() - started).toBeLessThan(3000);
    await d.revoke({ kind: 'session', sid: 'bff-never-stored' }, now() + 600);
    expect(d.isRevoked({ sid: 'bff-never-stored' })).toBe(true);
  });
});
