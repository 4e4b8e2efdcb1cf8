// A small cache of cookies already opened, so the proxy does not decrypt and parse the same session
// cookies on every API call (README "Performance": the decrypts and their garbage were a large part of
// the Node transport's per-request cost).
//
// Why this is safe: the key is the exact sealed value, an AES-256-GCM ciphertext authenticated with the
// purpose as associated data (RFC 5116 §3). Under one key set the same bytes can only ever open to the
// same plaintext, so a hit returns exactly what decrypting would return. Only values that opened and
// parsed are stored (a tampered or foreign value always goes through the codec, and is refused there);
// the cookie's own expiry is kept with the entry and checked on every hit, so an expired cookie is
// refused exactly when the codec would refuse it. The cache belongs to one codec (one key set, one app,
// one purpose per instance), and is bounded in entries and in characters held (large tokens are
// chunked across several cookies): the least recently used entry is dropped first.

interface Entry<T> {
  value: T;
  /** The sealed value's expiry (unix seconds), as the codec read it. */
  expiresAt: number;
}

export interface OpenedCookieCacheLimits {
  maxEntries: number;
  /** Sum of the sealed values' lengths; the plaintexts held are about as large. */
  maxChars: number;
}

export class OpenedCookieCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private chars = 0;

  constructor(readonly limits: OpenedCookieCacheLimits) {
    if (!(limits.maxEntries >= 1) || !(limits.maxChars >= 1)) throw new Error('OpenedCookieCache needs room for at least one entry');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value `sealed` opened to, while it has not expired at `nowSeconds`; undefined otherwise. */
  get(sealed: string, nowSeconds: number): T | undefined {
    const entry = this.entries.get(sealed);
    if (entry === undefined) return undefined;
    this.entries.delete(sealed);
    if (entry.expiresAt <= nowSeconds) { this.chars -= sealed.length; return undefined; } // as CookieCodec.open
    this.entries.set(sealed, entry); // most recently used last: a Map iterates in insertion order
    return entry.value;
  }

  /** Remembers what `sealed` opened to. Call only after the codec opened it and the value was validated. */
  set(sealed: string, value: T, expiresAt: number): void {
    if (sealed.length > this.limits.maxChars) return;
    if (this.entries.delete(sealed)) this.chars -= sealed.length;
    while (this.entries.size >= this.limits.maxEntries || this.chars + sealed.length > this.limits.maxChars) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
    this.entries.set(sealed, { value, expiresAt });
    this.chars += sealed.length;
  }
}
