import { describe, expect, it } from 'vitest';
import { DenylistMirror } from './denylist-mirror';
import { InProcessDenylist } from './in-process-denylist';
import { OpenSocketRegistry } from './open-sockets';

const now = 1_800_000_000;
const ISS = 'https://idp.example';
const alice = { sid: 'bff-1', idpSid: 'op-1', iss: ISS, sub: 'alice', createdAt: now - 100 };

describe('DenylistMirror', () => {
  it('ends one BFF session by its own id, and no other', () => {
    const m = new DenylistMirror();
    expect(m.isRevoked(alice, now)).toBe(false);
    m.apply({ kind: 'session', sid: 'bff-1' }, now + 60, now);
    expect(m.isRevoked(alice, now)).toBe(true);
    expect(m.isRevoked({ ...alice, sid: 'bff-2' }, now)).toBe(false);
  });

  it('ends every session of an identity-server session at that issuer only', () => {
    const m = new DenylistMirror();
    m.apply({ kind: 'idp-session', iss: ISS, idpSid: 'op-1' }, now + 60, now);
    expect(m.isRevoked({ ...alice, sid: 'bff-9' }, now)).toBe(true);
    expect(m.isRevoked({ ...alice, iss: 'https://other.example' }, now)).toBe(false);
    expect(m.isRevoked({ ...alice, idpSid: 'op-2' }, now)).toBe(false);
    // A session sealed before the principal was recorded cannot be named by the identity server.
    expect(m.isRevoked({ sid: 'bff-old' }, now)).toBe(false);
  });

  it('ends the sessions of a subject created up to the token\'s iat, not those begun after it', () => {
    const m = new DenylistMirror();
    m.apply({ kind: 'subject', iss: ISS, sub: 'alice', before: now - 50 }, now + 60, now);
    expect(m.isRevoked(alice, now)).toBe(true); // created at now - 100
    expect(m.isRevoked({ ...alice, createdAt: now - 50 }, now)).toBe(true);
    expect(m.isRevoked({ ...alice, createdAt: now - 49 }, now)).toBe(false);
    expect(m.isRevoked({ ...alice, sub: 'bob' }, now)).toBe(false);
    expect(m.isRevoked({ ...alice, createdAt: undefined }, now)).toBe(false);
    // A later token for the same subject moves the line forward, never back.
    m.apply({ kind: 'subject', iss: ISS, sub: 'alice', before: now - 80 }, now + 60, now);
    expect(m.isRevoked({ ...alice, createdAt: now - 60 }, now)).toBe(true);
  });

  it('forgets entries once they expire', () => {
    const m = new DenylistMirror();
    m.apply({ kind: 'session', sid: 'bff-1' }, now + 60, now);
    m.apply({ kind: 'idp-session', iss: ISS, idpSid: 'op-7' }, now + 60, now);
    expect(m.isRevoked(alice, now + 59)).toBe(true);
    expect(m.isRevoked(alice, now + 60)).toBe(false);
    expect(m.isRevoked({ ...alice, sid: 'x', idpSid: 'op-7' }, now + 61)).toBe(false);
    expect(m.size).toBe(0);
    m.apply({ kind: 'session', sid: 'gone' }, now - 1, now);
    expect(m.size).toBe(0);
  });

  it('stays within its bound: expired entries go first, then the oldest', () => {
    const m = new DenylistMirror({ maxEntries: 3 });
    m.apply({ kind: 'session', sid: 'short' }, now + 1, now);
    for (const sid of ['a', 'b', 'c']) m.apply({ kind: 'session', sid }, now + 600, now + 2);
    expect(m.size).toBe(3);
    expect(m.overflowed).toBe(false);
    m.apply({ kind: 'session', sid: 'd' }, now + 600, now + 2);
    expect(m.size).toBe(3);
    expect(m.overflowed).toBe(true);
    expect(m.isRevoked({ sid: 'a' }, now + 2)).toBe(false);
    expect(m.isRevoked({ sid: 'd' }, now + 2)).toBe(true);
  });
});

describe('InProcessDenylist', () => {
  it('claims a logout token\'s jti once', async () => {
    const d = new InProcessDenylist();
    expect(await d.claimLogoutToken(ISS, 'jti-1', now + 3600)).toBe(true);
    expect(await d.claimLogoutToken(ISS, 'jti-1', now + 3600)).toBe(false);
    expect(await d.claimLogoutToken('https://other.example', 'jti-1', now + 3600)).toBe(true);
  });

  it('tells its listeners of each revocation', async () => {
    const d = new InProcessDenylist();
    const heard: string[] = [];
    const off = d.onRevoked((r) => heard.push(r.kind));
    await d.revoke({ kind: 'session', sid: 'bff-1' }, Math.floor(Date.now() / 1000) + 60);
    off();
    await d.revoke({ kind: 'session', sid: 'bff-2' }, Math.floor(Date.now() / 1000) + 60);
    expect(heard).toEqual(['session']);
    expect(d.isRevoked({ sid: 'bff-2' })).toBe(true);
  });
});

describe('OpenSocketRegistry', () => {
  it('destroys exactly the sockets of a session once it is revoked, and forgets closed ones', async () => {
    const d = new InProcessDenylist();
    const registry = new OpenSocketRegistry(() => d);
    const destroyed: string[] = [];
    const socket = (name: string) => ({ destroy: () => { destroyed.push(name); } });
    registry.register(socket('alice-1'), { ...alice, createdAt: Math.floor(Date.now() / 1000) });
    registry.register(socket('alice-2'), { ...alice, sid: 'bff-1b' });
    registry.register(socket('bob'), { sid: 'bff-2', idpSid: 'op-2', iss: ISS, sub: 'bob' });
    const unregister = registry.register(socket('closed'), { ...alice, sid: 'bff-3' });
    unregister();
    expect(registry.size).toBe(3);
    await d.revoke({ kind: 'idp-session', iss: ISS, idpSid: 'op-1' }, Math.floor(Date.now() / 1000) + 60);
    expect(destroyed.sort()).toEqual(['alice-1', 'alice-2']);
    expect(registry.size).toBe(1);
  });
});
