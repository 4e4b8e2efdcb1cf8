// Successor entries in the shared session store, so a request with a rotated refresh token gets the
// newest tokens whichever instance redeemed it (docs/contract.md §6). Written through to the per-process
// store too, which is read first (no round trip for an entry this instance wrote) and serves alone
// while the store is unreachable.
import { log } from '../log';
import { StoreUnavailableError, type SessionStore } from '../store/redis-client';
import type { StoreCrypto } from '../store/store-crypto';
import { InMemorySuccessorStore, type SuccessorEntry, type SuccessorStore } from './successor-store';

const PURPOSE = 'successor';
const REJECTED = 'rejected';

export class StoreSuccessorStore implements SuccessorStore {
  constructor(
    private readonly store: SessionStore,
    private readonly crypto: StoreCrypto,
    private readonly local: InMemorySuccessorStore = new InMemorySuccessorStore(),
  ) {}

  private keyOf(name: string): string {
    return `${this.store.prefix}s:${name}`;
  }

  async get(key: string): Promise<SuccessorEntry | undefined> {
    const mine = this.local.get(key);
    if (mine) return mine;
    const name = this.crypto.name(PURPOSE, key);
    let sealed: unknown;
    try {
      sealed = await this.store.command(['GET', this.keyOf(name)]);
    } catch (err) {
      if (err instanceof StoreUnavailableError) return undefined; // per-process only while it is down
      throw err;
    }
    if (typeof sealed !== 'string') return undefined;
    const payload = this.crypto.open(PURPOSE, name, sealed);
    if (payload === null) {
      log('warn', 'store_value_rejected', { kind: PURPOSE }); // other keys, expired or tampered with
      return undefined;
    }
    return payload === REJECTED ? 'rejected' : JSON.parse(payload) as SuccessorEntry;
  }

  async set(key: string, value: SuccessorEntry, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    this.local.set(key, value, ttlSeconds);
    const name = this.crypto.name(PURPOSE, key);
    const payload = value === 'rejected' ? REJECTED : JSON.stringify(value);
    const command = ['SET', this.keyOf(name), this.crypto.seal(PURPOSE, name, payload, ttlSeconds), 'EX', ttlSeconds];
    // Other instances redeem the old token again unless they find this entry: one retry after a slow answer.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        await this.store.command(command);
        return;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
      }
    }
  }
}
