// The session store client and the cross-instance refresh against a real redis-server (docs/contract.md §6):
// outages degrade (down at start, killed, restarted, wrong password, a server that never answers),
// state changes are logged once, and two "instances" (two clients, two coordinators) share one grant.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config';
import { ThError } from '../../lib/errors';
import { refreshSessionTokens, refreshTokenKey } from '../../lib/session/refresh-session-tokens';
import { StoreRefreshCoordinator } from '../../lib/session/store-refresh-coordinator';
import { StoreSuccessorStore } from '../../lib/session/store-successor-store';
import type { SuccessorTokens } from '../../lib/session/successor-store';
import { SessionStore, StoreUnavailableError } from '../../lib/store/redis-client';
import { StoreCrypto } from '../../lib/store/store-crypto';
import { freePort } from '../harness/free-port';
import { startRedis, startSilentServer, type RunningRedis } from '../harness/redis-server';

const config = loadConfig({
  PUBLIC_ORIGIN: 'https://www.example.com', OIDC_ISSUER: 'https://login.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: 'ab'.repeat(32), API_ROUTES: '/api=http://api:8080',
});
const refreshConfig = { oidc: {} as never, refreshGraceSeconds: 60, refreshMarginSeconds: 30 };

/** Log lines written while `fn` runs (the BFF logs one JSON object per line). */
function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const grab = (chunk: unknown) => { raw.push(String(chunk)); for (const l of String(chunk).split('\n').filter(Boolean)) { try { lines.push(JSON.parse(l)); } catch { /* not ours */ } } return true; };
  const a = vi.spyOn(process.stdout, 'write').mockImplementation(grab);
  const b = vi.spyOn(process.stderr, 'write').mockImplementation(grab);
  return { lines, raw, events: (name: string) => lines.filter((l) => l.event === name), restore: () => { a.mockRestore(); b.mockRestore(); } };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Rejects if `promise` has not settled within `ms` (the contract's ~1 s bound on a store command). */
function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`still pending after ${ms} ms`)), ms))]);
}

const storeConfig = (url: string) => ({ url, displayUrl: url.replace(/\/\/[^@]*@/, '//'), prefix: 'nth:' });

const open: SessionStore[] = [];
const newStore = (url: string) => { const s = new SessionStore(storeConfig(url)); open.push(s); return s; };
afterEach(async () => { await Promise.all(open.splice(0).map((s) => s.close())); });

describe('SessionStore outages', () => {
  it('a store down at start-up: commands fail at once, store_unavailable is logged once, it connects when the server appears', async () => {
    const port = await freePort();
    const logs = captureLogs();
    let redis: RunningRedis | undefined;
    try {
      const store = newStore(`redis://127.0.0.1:${port}`);
      await until(() => logs.events('store_unavailable').length > 0, 'store_unavailable');
      expect(store.state).toBe('unavailable');
      await expect(settlesWithin(store.command(['PING']), 1_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      await new Promise((r) => setTimeout(r, 600)); // a few reconnect attempts
      expect(logs.events('store_unavailable')).toHaveLength(1);
      redis = await startRedis({ port });
      await until(() => store.state === 'ok', 'the store to connect');
      expect(await store.command(['PING'])).toBe('PONG');
      expect(logs.events('store_recovered')).toHaveLength(1);
    } finally {
      logs.restore();
      await redis?.stop();
    }
  });

  it('a store killed and restarted: unavailable once, recovered once, commands work again', async () => {
    const redis = await startRedis();
    const store = newStore(redis.url);
    await until(() => store.state === 'ok', 'connect');
    const logs = captureLogs();
    let again: RunningRedis | undefined;
    try {
      await redis.stop('SIGKILL');
      await until(() => store.state === 'unavailable', 'the drop to be seen');
      await expect(settlesWithin(store.command(['GET', 'x']), 1_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      again = await startRedis({ port: redis.port });
      await until(() => store.state === 'ok', 'reconnect');
      expect(await store.command(['SET', 'nth:x', '1'])).toBe('OK');
      expect(logs.events('store_unavailable')).toHaveLength(1);
      expect(logs.events('store_recovered')).toHaveLength(1);
    } finally {
      logs.restore();
      await again?.stop();
    }
  });

  it('a wrong password: unavailable, logged once without the password, no command waits', async () => {
    const redis = await startRedis({ password: 'right-horse-battery' });
    const logs = captureLogs();
    try {
      const store = newStore(`redis://:wrong-staple-secret@127.0.0.1:${redis.port}`);
      await until(() => logs.events('store_unavailable').length > 0, 'store_unavailable');
      await new Promise((r) => setTimeout(r, 800));
      expect(store.state).toBe('unavailable');
      await expect(settlesWithin(store.command(['PING']), 1_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(logs.events('store_unavailable')).toHaveLength(1);
      expect(logs.raw.join('')).not.toContain('wrong-staple-secret');
      const right = newStore(redis.url); // control: the right password connects to the same server
      await until(() => right.state === 'ok', 'connect with the right password');
    } finally {
      logs.restore();
      await redis.stop();
    }
  });

  it('a connected store that stops answering (CLIENT PAUSE): commands fail within the deadline, it is marked down, then recovers', async () => {
    const redis = await startRedis();
    const store = newStore(redis.url);
    await until(() => store.state === 'ok', 'connect');
    const logs = captureLogs();
    try {
      await redis.command(['CLIENT', 'PAUSE', '4000', 'ALL']);
      for (let i = 0; i < 2; i += 1) await expect(settlesWithin(store.command(['GET', 'nth:k']), 1_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(store.state).toBe('unavailable');
      await expect(settlesWithin(store.command(['GET', 'nth:k']), 1_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      await until(() => store.state === 'ok', 'recovery after the pause');
      expect(await store.command(['GET', 'nth:k'])).toBeNull();
      expect(logs.events('store_unavailable')).toHaveLength(1);
      expect(logs.events('store_recovered')).toHaveLength(1);
    } finally {
      logs.restore();
      await redis.stop();
    }
  });

  it('a server that accepts connections and never answers: unavailable, commands fail within the deadline', async () => {
    const silent = await startSilentServer();
    const logs = captureLogs();
    try {
      const store = newStore(silent.url);
      await until(() => silent.connections() > 0, 'a connection');
      await until(() => logs.events('store_unavailable').length > 0, 'store_unavailable', 10_000);
      expect(store.state).toBe('unavailable');
      await expect(settlesWithin(store.command(['PING']), 1_000)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      logs.restore();
      await silent.close();
    }
  });
});

describe('SessionStore pub/sub (for the denylist mirror)', () => {
  it('delivers a message published by one instance to a subscriber on another, on the prefixed channel; unsubscribe stops it', async () => {
    const redis = await startRedis();
    try {
      const [a, b] = [newStore(redis.url), newStore(redis.url)];
      await until(() => a.state === 'ok' && b.state === 'ok', 'connect');
      const got: string[] = [];
      const unsubscribe = await b.subscribe('revoked', (m) => got.push(m));
      await a.publish('revoked', 'sid-1');
      await until(() => got.length === 1, 'the message');
      expect(got).toEqual(['sid-1']);
      expect(await redis.command(['PUBSUB', 'CHANNELS', '*'])).toContain('nth:revoked');
      await unsubscribe();
      await a.publish('revoked', 'sid-2');
      await a.command(['PING']); // a round trip after the publish: a delivery would have happened by now
      expect(got).toEqual(['sid-1']);
    } finally {
      await redis.stop();
    }
  });
});

/** A rotating identity server stand-in: each refresh token works once; a reuse is invalid_grant. */
function rotatingIdp(delayMs = 30) {
  const used = new Set<string>();
  const issued: string[] = [];
  let grants = 0;
  let n = 0;
  const grant = async (rt: string): Promise<SuccessorTokens> => {
    grants += 1;
    await new Promise((r) => setTimeout(r, delayMs));
    if (used.has(rt)) throw new ThError('session_expired', 'reused');
    used.add(rt);
    n += 1;
    const tokens = { accessToken: `at.${rt}.${n}.${'x'.repeat(20)}`, accessTokenExpiresAt: Math.floor(Date.now() / 1000) + 300, refreshToken: `rt-${n}-${Math.random().toString(36).slice(2)}`, idToken: `id.${n}.${'y'.repeat(20)}` };
    issued.push(tokens.accessToken, tokens.refreshToken, tokens.idToken);
    return tokens;
  };
  return { grant, issued, get grants() { return grants; } };
}

function instance(redis: RunningRedis) {
  const store = newStore(redis.url);
  const crypto = new StoreCrypto(config);
  return { store, coordinator: new StoreRefreshCoordinator(store, crypto, { lockTtlMs: 15_000 }), successors: new StoreSuccessorStore(store, crypto) };
}

describe('cross-instance refresh through a real redis-server', () => {
  let redis: RunningRedis;
  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => { await redis?.stop(); });

  it('50 concurrent refreshes of one session on three instances: one grant, all get the same tokens; nothing readable at rest', async () => {
    const idp = rotatingIdp();
    const instances = [instance(redis), instance(redis), instance(redis)];
    await until(() => instances.every((i) => i.store.state === 'ok'), 'connect');
    const session = { sid: 's1', csrf: 'c1', expiresAt: 2e9, accessToken: 'at-0', accessTokenExpiresAt: 1, refreshToken: 'rt-0-initial', idToken: 'id-0' };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      refreshSessionTokens(session, { ...instances[i % 3]!, config: refreshConfig, grant: idp.grant })));
    expect(idp.grants).toBe(1);
    expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1);

    // A second session interleaved with a third storm of the first (now generation 2) never mixes.
    const other = { ...session, sid: 's2', refreshToken: 'rt-0-other' };
    const gen2 = { ...results[0]!, accessTokenExpiresAt: 1 };
    const mixed = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      refreshSessionTokens(i % 2 ? other : gen2, { ...instances[i % 3]!, config: refreshConfig, grant: idp.grant })));
    expect(idp.grants).toBe(3);
    const bySid = (sid: string) => new Set(mixed.filter((m) => m.sid === sid).map((m) => m.refreshToken));
    expect(bySid('s1').size).toBe(1);
    expect(bySid('s2').size).toBe(1);
    expect([...bySid('s1')][0]).not.toBe([...bySid('s2')][0]);
    // Generation-1 cookies, on any instance, get the newest tokens, without a grant.
    const late = await refreshSessionTokens(session, { ...instances[2]!, config: refreshConfig, grant: idp.grant });
    expect(late.refreshToken).toBe([...bySid('s1')][0]);
    expect(idp.grants).toBe(3);

    const dump = await redis.dump();
    expect(dump.length).toBeGreaterThan(0);
    const secrets = [...idp.issued, 'rt-0-initial', 'rt-0-other'];
    const forms = secrets.flatMap((t) => [t, refreshTokenKey(t), createHash('sha256').update(t).digest('hex'), Buffer.from(t).toString('base64url')]);
    for (const { key, value } of dump) {
      for (const f of forms) {
        expect(key).not.toContain(f);
        expect(value).not.toContain(f);
      }
    }
  });

  it('an invalid_grant leaves a tombstone: waiters on other instances do not present the token again', async () => {
    let grants = 0;
    const grant = async (): Promise<SuccessorTokens> => { grants += 1; await new Promise((r) => setTimeout(r, 30)); throw new ThError('session_expired', 'invalid_grant'); };
    const instances = [instance(redis), instance(redis)];
    await until(() => instances.every((i) => i.store.state === 'ok'), 'connect');
    const session = { sid: 's3', csrf: 'c', expiresAt: 2e9, accessToken: 'a', accessTokenExpiresAt: 1, refreshToken: 'rt-dead', idToken: 'i' };
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => refreshSessionTokens(session, { ...instances[i % 2]!, config: refreshConfig, grant })));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as ThError).code === 'session_expired')).toBe(true);
    expect(grants).toBe(1);
  });

  it('with the store down mid-storm, refreshes still succeed per process', async () => {
    const own = await startRedis();
    const idp = rotatingIdp(50);
    const inst = instance(own);
    await until(() => inst.store.state === 'ok', 'connect');
    const session = { sid: 's4', csrf: 'c', expiresAt: 2e9, accessToken: 'a', accessTokenExpiresAt: 1, refreshToken: 'rt-0-storm', idToken: 'i' };
    const storm = Promise.all(Array.from({ length: 20 }, () => refreshSessionTokens(session, { ...inst, config: refreshConfig, grant: idp.grant })));
    await new Promise((r) => setTimeout(r, 10));
    await own.stop('SIGKILL');
    const results = await storm;
    expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1);
    expect(idp.grants).toBe(1);
    // While it is down, a later refresh of the new generation works without the store.
    await until(() => inst.store.state === 'unavailable', 'the drop');
    const next = await settlesWithin(refreshSessionTokens({ ...results[0]!, accessTokenExpiresAt: 1 }, { ...inst, config: refreshConfig, grant: idp.grant }), 2_000);
    expect(idp.grants).toBe(2);
    expect(next.refreshToken).not.toBe(results[0]!.refreshToken);
  });
});
