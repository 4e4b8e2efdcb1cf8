// Remembers, for a short grace window, which tokens replaced a rotated refresh token, so a request
// that left the browser before the new cookies arrived still succeeds instead of presenting a
// used refresh token (which a rotating identity server treats as theft and revokes the grant).
import { nowMs } from '../clock';

export interface SuccessorTokens {
  accessToken: string;
  accessTokenExpiresAt: number;
  accessTokenIssuedAt?: number;
  refreshToken?: string;
  idToken?: string;
}

/**
 * What the store knows about a refresh token: the tokens that replaced it (it was rotated), or
 * 'rejected' (a tombstone: the identity server answered invalid_grant, so nobody tries it again).
 */
export type SuccessorEntry = SuccessorTokens | 'rejected';

/** Keyed by SHA-256 of the old refresh token: the store never holds a value that can be replayed as a key. */
export interface SuccessorStore {
  get(key: string): Promise<SuccessorEntry | undefined> | SuccessorEntry | undefined;
  set(key: string, value: SuccessorEntry, ttlSeconds: number): Promise<void> | void;
}

interface Entry { value: SuccessorEntry; expiresAtMs: number }

/** Bounded in size and time; the oldest entry goes first when full. */
export class InMemorySuccessorStore implements SuccessorStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 10_000, private readonly now: () => number = nowMs) {}

  get(key: string): SuccessorEntry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: SuccessorEntry, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    this.sweep();
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAtMs: this.now() + ttlSeconds * 1000 });
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries from the front (insertion order ≈ expiry order for one TTL). */
  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs > now) break;
      this.entries.delete(key);
    }
  }
}
