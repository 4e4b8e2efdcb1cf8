import { describe, expect, it } from 'vitest';
import { OpenedCookieCache } from './opened-cookie-cache';

const now = 1_800_000_000;

describe('OpenedCookieCache', () => {
  it('returns what was stored for the exact same sealed value, and nothing for any other', () => {
    const cache = new OpenedCookieCache<string>({ maxEntries: 10, maxChars: 1000 });
    cache.set('sealed-A', 'plain-A', now + 60);
    expect(cache.get('sealed-A', now)).toBe('plain-A');
    expect(cache.get('sealed-a', now)).toBeUndefined();
    expect(cache.get('sealed-A ', now)).toBeUndefined();
  });

  it('never answers for a value at or past its expiry, and forgets it', () => {
    const cache = new OpenedCookieCache<string>({ maxEntries: 10, maxChars: 1000 });
    cache.set('sealed-A', 'plain-A', now + 60);
    expect(cache.get('sealed-A', now + 59.9)).toBe('plain-A');
    expect(cache.get('sealed-A', now + 60)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get('sealed-A', now)).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the least recently used first', () => {
    const cache = new OpenedCookieCache<number>({ maxEntries: 3, maxChars: 1000 });
    for (const i of [1, 2, 3]) cache.set(`sealed-${i}`, i, now + 60);
    expect(cache.get('sealed-1', now)).toBe(1); // 1 is now the most recently used
    cache.set('sealed-4', 4, now + 60);
    expect(cache.size).toBe(3);
    expect(cache.get('sealed-2', now)).toBeUndefined();
    expect([1, 3, 4].map((i) => cache.get(`sealed-${i}`, now))).toEqual([1, 3, 4]);
    for (let i = 5; i < 100; i++) cache.set(`sealed-${i}`, i, now + 60);
    expect(cache.size).toBe(3);
  });

  it('holds at most maxChars of sealed values, and never a value larger than that', () => {
    const cache = new OpenedCookieCache<number>({ maxEntries: 100, maxChars: 25 });
    cache.set('a'.repeat(10), 1, now + 60);
    cache.set('b'.repeat(10), 2, now + 60);
    cache.set('c'.repeat(10), 3, now + 60); // 30 chars: the oldest goes
    expect(cache.get('a'.repeat(10), now)).toBeUndefined();
    expect(cache.get('b'.repeat(10), now)).toBe(2);
    expect(cache.get('c'.repeat(10), now)).toBe(3);
    cache.set('d'.repeat(26), 4, now + 60);
    expect(cache.get('d'.repeat(26), now)).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.set('b'.repeat(10), 5, now + 60); // replacing an entry does not count it twice
    cache.set('e'.repeat(5), 6, now + 60);
    expect(cache.size).toBe(3);
  });

  it('refuses limits that leave no room', () => {
    expect(() => new OpenedCookieCache({ maxEntries: 0, maxChars: 10 })).toThrow();
    expect(() => new OpenedCookieCache({ maxEntries: 10, maxChars: 0 })).toThrow();
  });
});
