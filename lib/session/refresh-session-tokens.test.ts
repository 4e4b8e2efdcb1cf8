import { describe, expect, it } from 'vitest';
import type { Session } from '../cookies/session-cookies';
import { ThError } from '../errors';
import { InMemoryRefreshCoordinator } from './refresh-coordinator';
import { refreshSessionTokens, refreshTokenKey } from './refresh-session-tokens';
import { InMemorySuccessorStore, type SuccessorEntry, type SuccessorTokens } from './successor-store';

const config = { oidc: {} as never, refreshGraceSeconds: 60, refreshMarginSeconds: 30 };
const inFiveMinutes = () => Math.floor(Date.now() / 1000) + 300;

function session(user: string, refreshToken = `rt-${user}-1`): Session {
  return { sid: `sid-${user}`, csrf: `csrf-${user}`, expiresAt: 2_000_000_000, accessToken: `at-${user}-1`, accessTokenExpiresAt: 1, refreshToken, idToken: `id-${user}` };
}

/** A fake rotating identity server: each refresh token works once; counts grants. */
function fakeIdp(delayMs = 20, expiresAt = inFiveMinutes) {
  const used = new Set<string>();
  let grants = 0;
  const grant = async (rt: string): Promise<SuccessorTokens> => {
    grants += 1;
    await new Promise((r) => setTimeout(r, delayMs));
    if (used.has(rt)) throw new ThError('session_expired', 'reused');
    used.add(rt);
    const [, user, n] = rt.split('-');
    const next = Number(n) + 1;
    return { accessToken: `at-${user}-${next}`, accessTokenExpiresAt: expiresAt(), refreshToken: `rt-${user}-${next}` };
  };
  return { grant, get grants() { return grants; } };
}

function deps(idp: ReturnType<typeof fakeIdp>, now = () => Date.now()) {
  return { config, coordinator: new InMemoryRefreshCoordinator(), successors: new InMemorySuccessorStore(100, now), grant: idp.grant, now: () => now() / 1000 };
}

describe('refreshSessionTokens', () => {
  it('runs one grant for concurrent callers of one session; all get the same successor', async () => {
    const idp = fakeIdp();
    const d = deps(idp);
    const results = await Promise.all(Array.from({ length: 20 }, () => refreshSessionTokens(session('alice'), d)));
    expect(idp.grants).toBe(1);
    expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(['at-alice-2']));
    expect(results[0]).toMatchObject({ sid: 'sid-alice', csrf: 'csrf-alice', refreshToken: 'rt-alice-2', idToken: 'id-alice' });
  });

  it('never mixes sessions: two sessions refresh in parallel, each gets its own tokens', async () => {
    const idp = fakeIdp();
    const d = deps(idp);
    const results = await Promise.all([0, 1, 2, 3].map((i) => refreshSessionTokens(session(i % 2 ? 'bob' : 'alice'), d)));
    expect(results.map((r) => r.accessToken)).toEqual(['at-alice-2', 'at-bob-2', 'at-alice-2', 'at-bob-2']);
    expect(idp.grants).toBe(2);
  });

  it('gives a late caller with the rotated token the successor within the grace window, not after', async () => {
    let now = Date.now();
    const idp = fakeIdp(0, () => Math.floor(now / 1000) + 300);
    const d = deps(idp, () => now);
    await refreshSessionTokens(session('alice'), d);
    now += 59_000;
    expect((await refreshSessionTokens(session('alice'), d)).accessToken).toBe('at-alice-2');
    expect(idp.grants).toBe(1);
    now += 2_000;
    await expect(refreshSessionTokens(session('alice'), d)).rejects.toMatchObject({ code: 'session_expired' });
    expect(idp.grants).toBe(2);
  });

  it('keys the successor store by SHA-256 of the old refresh token, never the token itself', async () => {
    const store = new InMemorySuccessorStore();
    const keys: string[] = [];
    const spy = { get: (k: string) => store.get(k), set: (k: string, v: SuccessorEntry, t: number) => { keys.push(k); store.set(k, v, t); } };
    await refreshSessionTokens(session('alice'), { ...deps(fakeIdp(0)), successors: spy });
    expect(keys).toEqual([refreshTokenKey('rt-alice-1')]);
    expect(keys[0]).not.toContain('rt-alice');
  });

  it('shares a failure with every concurrent caller, and a later call tries again', async () => {
    let calls = 0;
    const grant = async () => { calls += 1; await new Promise((r) => setTimeout(r, 10)); throw new ThError('authorization_server_error', 'down'); };
    const d = { ...deps(fakeIdp()), grant };
    const results = await Promise.allSettled([1, 2, 3].map(() => refreshSessionTokens(session('alice'), d)));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as ThError).code === 'authorization_server_error')).toBe(true);
    expect(calls).toBe(1);
    await expect(refreshSessionTokens(session('alice'), d)).rejects.toBeInstanceOf(ThError);
    expect(calls).toBe(2);
  });

  it('follows successors across generations: generation-1 cookies after two rotations get the newest tokens', async () => {
    const idp = fakeIdp(0);
    const d = deps(idp);
    const gen2 = await refreshSessionTokens(session('alice'), d);
    const gen3 = await refreshSessionTokens({ ...gen2, accessTokenExpiresAt: 1 }, d);
    expect(gen3).toMatchObject({ accessToken: 'at-alice-3', refreshToken: 'rt-alice-3' });
    expect(idp.grants).toBe(2);
    const late = await refreshSessionTokens(session('alice'), d); // still carries rt-alice-1
    expect(late).toMatchObject({ accessToken: 'at-alice-3', refreshToken: 'rt-alice-3' });
    expect(idp.grants).toBe(2); // no used refresh token was presented again
  });

  it('never serves a successor that is due itself: its unused refresh token is redeemed instead', async () => {
    let expiresAt = Math.floor(Date.now() / 1000) + 10; // inside the 30 s margin as soon as it is issued
    const idp = fakeIdp(0, () => expiresAt);
    const d = deps(idp);
    await refreshSessionTokens(session('alice'), d);
    expiresAt += 600;
    const late = await refreshSessionTokens(session('alice'), d);
    expect(late).toMatchObject({ accessToken: 'at-alice-3', refreshToken: 'rt-alice-3' });
    expect(idp.grants).toBe(2);
  });

  it('stores no successor when the refresh token did not rotate: each later refresh is a fresh grant', async () => {
    let grants = 0;
    const grant = async () => { grants += 1; return { accessToken: `at-${grants}`, accessTokenExpiresAt: inFiveMinutes() }; };
    const successors = new InMemorySuccessorStore();
    const d = { ...deps(fakeIdp()), successors, grant };
    const first = await refreshSessionTokens(session('alice'), d);
    expect(first).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-alice-1' });
    expect(successors.size).toBe(0);
    expect((await refreshSessionTokens(session('alice'), d)).accessToken).toBe('at-2');
    expect(grants).toBe(2);
  });

  it('leaves a tombstone after invalid_grant: later callers with that token get session_expired without a grant', async () => {
    let grants = 0;
    const grant = async () => { grants += 1; throw new ThError('session_expired', 'invalid_grant'); };
    const d = { ...deps(fakeIdp()), grant };
    await expect(refreshSessionTokens(session('alice'), d)).rejects.toMatchObject({ code: 'session_expired' });
    await expect(refreshSessionTokens(session('alice'), d)).rejects.toMatchObject({ code: 'session_expired' });
    expect(grants).toBe(1);
  });

  it('throws session_expired when the session has no refresh token', async () => {
    await expect(refreshSessionTokens({ ...session('alice'), refreshToken: undefined }, deps(fakeIdp()))).rejects.toMatchObject({ code: 'session_expired' });
  });
});

describe('InMemorySuccessorStore', () => {
  it('is bounded: the oldest entry goes first when full', () => {
    const store = new InMemorySuccessorStore(2);
    const t = { accessToken: 'a', accessTokenExpiresAt: 1 };
    store.set('k1', t, 60); store.set('k2', t, 60); store.set('k3', t, 60);
    expect(store.size).toBe(2);
    expect(store.get('k1')).toBeUndefined();
    expect(store.get('k3')).toEqual(t);
  });

  it('does not store anything when the grace window is 0', () => {
    const store = new InMemorySuccessorStore();
    store.set('k', { accessToken: 'a', accessTokenExpiresAt: 1 }, 0);
    expect(store.get('k')).toBeUndefined();
  });
});
