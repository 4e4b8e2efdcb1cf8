// The per-process memory of authorization responses being or already redeemed (docs/contract.md §2:
// "login/end redeems an authorization response at most once").
import { describe, expect, it } from 'vitest';
import type { Session } from '../cookies/session-cookies';
import { DUPLICATE_WINDOW_SECONDS, findRedemption, joinRedemption, responseTagOf, startRedemption, transactionKey } from './login-redemptions';

const session = (sid: string): Session => ({ sid, csrf: 'c', expiresAt: 0, accessToken: 'a', accessTokenExpiresAt: 0 });
const now = () => Date.now() / 1000;

describe('login redemptions', () => {
  it('one redemption per transaction: duplicates in flight share its promise', async () => {
    let calls = 0;
    let release!: (s: Session) => void;
    const key = transactionKey(`state-${Math.random()}`);
    const r = startRedemption(key, 'tag', now() + 600, now(), () => { calls++; return new Promise((res) => { release = res; }); });
    expect(findRedemption(key, now())).toBe(r);
    const joined = joinRedemption(findRedemption(key, now())!, now());
    expect(joined).toBe(r.result);
    release(session('s1'));
    expect((await joined!).sid).toBe('s1');
    expect(calls).toBe(1);
  });

  it('a finished success is shared inside the duplicate window only; a failure never is', async () => {
    const key = transactionKey(`state-${Math.random()}`);
    const r = startRedemption(key, 'tag', now() + 600, now(), async () => session('s2'));
    await r.result;
    const finishedAt = r.outcome!.finishedAt;
    expect(joinRedemption(r, finishedAt + DUPLICATE_WINDOW_SECONDS)).toBe(r.result);
    expect(joinRedemption(r, finishedAt + DUPLICATE_WINDOW_SECONDS + 1)).toBeUndefined();
    // Still remembered after the window, so a replay is recognised (and refused) without a redemption.
    expect(findRedemption(key, finishedAt + DUPLICATE_WINDOW_SECONDS + 1)).toBe(r);

    const failedKey = transactionKey(`state-${Math.random()}`);
    const failed = startRedemption(failedKey, 'tag', now() + 600, now(), async () => { throw new Error('invalid_grant'); });
    await failed.result.catch(() => undefined);
    expect(failed.outcome).toBeNull();
    expect(joinRedemption(failed, now())).toBeUndefined();
  });

  it('forgets a transaction once it would have expired', async () => {
    const key = transactionKey(`state-${Math.random()}`);
    const expiresAt = now() + 600;
    await startRedemption(key, 'tag', expiresAt, now(), async () => session('s3')).result;
    expect(findRedemption(key, expiresAt - 1)).toBeDefined();
    expect(findRedemption(key, expiresAt)).toBeUndefined();
    expect(findRedemption(key, now())).toBeUndefined();
  });

  it('tells a code from an error response, and never keeps the state or code in clear', () => {
    const code = responseTagOf(new URLSearchParams('code=abc&state=s'));
    expect(code).not.toBe(responseTagOf(new URLSearchParams('code=abd&state=s')));
    expect(code).not.toBe(responseTagOf(new URLSearchParams('error=abc&state=s')));
    expect(code).not.toContain('abc');
    expect(transactionKey('the-state')).not.toContain('the-state');
  });
});
