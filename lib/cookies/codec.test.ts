import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CookieCodec } from './codec';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const future = () => Date.now() / 1000 + 3600;

describe('CookieCodec (AES-256-GCM, format v1)', () => {
  const codec = new CookieCodec([k1], 'https://app.example th');

  it('round-trips a payload, and each seal is different (random IV)', () => {
    const a = codec.seal('at', 'eyJhbGciOi.token.value', future());
    const b = codec.seal('at', 'eyJhbGciOi.token.value', future());
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.open('at', a)).toBe('eyJhbGciOi.token.value');
    expect(Buffer.from(a, 'base64url')[0]).toBe(1); // version byte
  });

  it('does not contain the plaintext', () => {
    const sealed = codec.seal('at', 'very-recognisable-token', future());
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('recognisable');
  });

  it('binds the purpose: a cookie of one kind never opens in another slot', () => {
    const sealed = codec.seal('id', 'x', future());
    expect(codec.open('at', sealed)).toBeNull();
    expect(codec.open('id', sealed)).toBe('x');
  });

  it('binds the app: another deployment sharing the key cannot open it', () => {
    const other = new CookieCodec([k1], 'https://other.example th');
    expect(other.open('at', codec.seal('at', 'x', future()))).toBeNull();
  });

  it('rejects expired values using the expiry inside the plaintext', () => {
    const now = Date.now() / 1000;
    const sealed = codec.seal('at', 'x', now + 10);
    expect(codec.open('at', sealed, now)).toBe('x');
    expect(codec.open('at', sealed, now + 10)).toBeNull();
  });

  it('rejects every single bit flip, truncation and garbage', () => {
    const sealed = codec.seal('rt', 'refresh-token-value', future());
    const raw = Buffer.from(sealed, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const copy = Buffer.from(raw);
      copy[i]! ^= 0x01;
      expect(codec.open('rt', copy.toString('base64url')), `byte ${i}`).toBeNull();
    }
    expect(codec.open('rt', sealed.slice(0, -4))).toBeNull();
    expect(codec.open('rt', sealed.slice(0, 30))).toBeNull();
    expect(codec.open('rt', '')).toBeNull();
    expect(codec.open('rt', 'not base64!')).toBeNull();
    expect(codec.open('rt', 'A'.repeat(200))).toBeNull();
  });

  it('rotates keys: the first key encrypts, every key decrypts, an unknown key fails', () => {
    const old = new CookieCodec([k1], 'app');
    const rotated = new CookieCodec([k2, k1], 'app');
    const sealedOld = old.seal('at', 'old-session', future());
    expect(rotated.open('at', sealedOld)).toBe('old-session');
    const sealedNew = rotated.seal('at', 'new-session', future());
    expect(new CookieCodec([k2], 'app').open('at', sealedNew)).toBe('new-session');
    expect(old.open('at', sealedNew)).toBeNull();
    expect(new CookieCodec([randomBytes(32)], 'app').open('at', sealedOld)).toBeNull();
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new CookieCodec([randomBytes(16)], 'app')).toThrow();
    expect(() => new CookieCodec([], 'app')).toThrow();
  });
});
