// Cross-instance single-flight (docs/contract.md §6): a lock per refresh token in the shared store. The
// holder re-checks for a successor and redeems; everyone else waits until the lock is free and then
// finds the successor (the `fn` of refreshSessionTokens re-checks first). RFC 9700 §4.14.2: two
// grants with one rotating refresh token make the identity server revoke the whole grant.
import { randomBytes } from 'node:crypto';
import { StoreUnavailableError, type SessionStore } from '../store/redis-client';
import type { StoreCrypto } from '../store/store-crypto';
import { InMemoryRefreshCoordinator, type RefreshCoordinator } from './refresh-coordinator';
import { nowMs } from '../clock';

// Released only by its owner: delete the key only if it still holds our random value.
const RETRY_SLOW_STORE_MS = 1_500;
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

export interface StoreRefreshCoordinatorOptions {
  /** Longer than the token request may take, so a lock never lapses while its grant is in flight. */
  lockTtlMs: number;
  /** Waiters re-try the lock every pollMs … 2·pollMs (jittered, so instances do not beat in step). */
  pollMs?: number;
}

export class StoreRefreshCoordinator implements RefreshCoordinator {
  // Callers of one process share one attempt: at most one lock request per token per instance.
  private readonly local = new InMemoryRefreshCoordinator();
  private readonly pollMs: number;

  constructor(private readonly store: SessionStore, private readonly crypto: StoreCrypto, private readonly opts: StoreRefreshCoordinatorOptions) {
    this.pollMs = opts.pollMs ?? 15;
  }

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.local.run(key, () => this.runLocked(key, fn));
  }

  private async runLocked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    // No store round trip is spent once we know it is down: per-process coordination meanwhile
    // (a store still making its first connection is waited for, briefly).
    if (this.store.state !== 'ok' && (await this.store.settled(1_000)) !== 'ok') return fn();
    const lock = `${this.store.prefix}l:${this.crypto.name('lock', key)}`;
    const owner = randomBytes(16).toString('base64url');
    // A holder that died leaves the lock until its TTL; waiting longer than that is pointless.
    const giveUpAt = nowMs() + this.opts.lockTtlMs;
    // A slow answer while the store is still considered up is retried for this long, not given up
    // at once: falling back to per-process coordination risks a second grant on another instance.
    const retryUntil = nowMs() + RETRY_SLOW_STORE_MS;
    for (;;) {
      let acquired: boolean;
      try {
        acquired = (await this.store.command(['SET', lock, owner, 'NX', 'PX', this.opts.lockTtlMs])) === 'OK';
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        if (this.store.state === 'ok' && nowMs() < retryUntil) continue;
        return fn();
      }
      if (acquired) {
        try {
          return await fn();
        } finally {
          await this.store.evaluate(RELEASE, [lock], [owner]).catch(() => undefined); // else it lapses by TTL
        }
      }
      if (nowMs() > giveUpAt) return fn();
      await new Promise((r) => setTimeout(r, this.pollMs * (1 + Math.random())));
    }
  }
}
