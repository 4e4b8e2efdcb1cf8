// The session denylist shared through the session store (docs/contract.md §6/§7): every revocation is a key
// with a TTL (the longest a matching session can still be valid) and a message on one pub/sub
// channel; every instance keeps its in-process mirror current from those messages, so the
// per-request check stays a Map lookup with no round trip. Whenever the store becomes usable (start,
// recovery after an outage, when messages may have been lost) the instance loads every key again.
// Nothing readable at rest (docs/contract.md §6): key names are keyed hashes, values and messages sealed.
// The store down never fails a request: revocations take effect in this instance's mirror at once,
// and are written to the store when it is back.
import { nowMs, nowSeconds } from '../clock';
import { describeCause } from '../errors';
import { log } from '../log';
import { InProcessDenylist } from '../revocation/in-process-denylist';
import type { RevocableSession, Revocation, SessionDenylist } from '../revocation/session-denylist';
import { StoreUnavailableError, type SessionStore } from './redis-client';
import type { StoreCrypto } from './store-crypto';

const DENY = 'deny';
const JTI = 'jti';
const CHANNEL = 'denylist';
// Revocations made while the store was down, written when it is back (bounded: a flood beyond it
// stays in this instance's mirror only).
const MAX_PENDING = 10_000;

interface Entry { r: Revocation; u: number }

/** The identity of a revocation, hashed into its key name (never stored in the clear). */
function identityOf(r: Revocation): string {
  if (r.kind === 'session') return `s\0${r.sid}`;
  if (r.kind === 'idp-session') return `i\0${r.iss}\0${r.idpSid}`;
  return `u\0${r.iss}\0${r.sub}\0${r.before}`;
}

function parseEntry(text: string | null): Entry | undefined {
  if (!text) return undefined;
  try {
    const e = JSON.parse(text) as Entry;
    if (typeof e?.u !== 'number' || typeof e.r?.kind !== 'string') return undefined;
    return e;
  } catch { return undefined; }
}

export class RedisSessionDenylist implements SessionDenylist {
  private readonly pending = new Map<string, Entry>();
  private offReady: (() => void) | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private syncing: Promise<void> | undefined;
  private closed = false;
  private synced = false;

  /** `local` is the mirror every request checks; also the fallback while the store is unreachable. */
  constructor(
    private readonly store: SessionStore,
    private readonly crypto: StoreCrypto,
    readonly local: InProcessDenylist = new InProcessDenylist(),
  ) {}

  /** Subscribes and loads whenever the store becomes usable; returns at once (never holds the start). */
  start(): this {
    this.offReady ??= this.store.onReady(() => { this.synced = false; void this.sync(); });
    if (this.store.state === 'ok') void this.sync();
    return this;
  }

  /** Resolves once this instance has subscribed and loaded the store's entries, or after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = nowMs() + timeoutMs;
    while (!this.synced && nowMs() < deadline) {
      await (this.syncing ?? new Promise((r) => setTimeout(r, 20)));
      if (!this.synced) await new Promise((r) => setTimeout(r, 20));
    }
    return this.synced;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.offReady?.();
    await this.unsubscribe?.().catch(() => {});
  }

  isRevoked(session: RevocableSession, now?: number): boolean {
    return this.local.isRevoked(session, now);
  }

  async revoke(revocation: Revocation, until: number): Promise<void> {
    // This instance refuses the session at once, whatever the store does.
    this.local.applyRevocation(revocation, until);
    if (until <= nowSeconds()) return;
    const entry = { r: revocation, u: until };
    if (!(await this.write(entry)) && this.pending.size < MAX_PENDING) this.pending.set(identityOf(revocation), entry);
  }

  async claimLogoutToken(iss: string, jti: string, until: number): Promise<boolean> {
    const ttl = Math.max(1, until - nowSeconds());
    const name = this.crypto.name(JTI, `${iss}\0${jti}`);
    try {
      // Back-Channel Logout 1.0 §2.6 step 8: one claim across every instance.
      return (await this.store.command(['SET', this.keyOf(JTI, name), '1', 'NX', 'EX', ttl])) === 'OK';
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) log('warn', 'denylist_store_failed', describeCause(err));
      // Store down: this instance's own memory decides (a replay elsewhere repeats an idempotent revocation).
      return this.local.claimLogoutToken(iss, jti, until);
    }
  }

  onRevoked(listener: (r: Revocation) => void): () => void {
    return this.local.onRevoked(listener);
  }

  private keyOf(purpose: string, name: string): string {
    return `${this.store.prefix}${purpose}:${name}`;
  }

  /** SET with the remaining lifetime as TTL, then PUBLISH; false when the store did not take it. */
  private async write(entry: Entry): Promise<boolean> {
    const ttl = entry.u - nowSeconds();
    if (ttl <= 0) return true;
    const name = this.crypto.name(DENY, identityOf(entry.r));
    const sealed = this.crypto.seal(DENY, name, JSON.stringify(entry), ttl);
    try {
      await this.store.command(['SET', this.keyOf(DENY, name), sealed, 'EX', ttl]);
      await this.store.publish(CHANNEL, `${name}.${sealed}`);
      return true;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) log('warn', 'denylist_store_failed', describeCause(err));
      return false;
    }
  }

  private applySealed(name: string, sealed: string): void {
    const entry = parseEntry(this.crypto.open(DENY, name, sealed));
    if (!entry) {
      log('warn', 'store_value_rejected', { kind: DENY }); // other keys, expired or tampered with
      return;
    }
    this.local.applyRevocation(entry.r, entry.u);
  }

  private onMessage = (message: string): void => {
    const dot = message.indexOf('.');
    if (dot > 0) this.applySealed(message.slice(0, dot), message.slice(dot + 1));
  };

  /** Subscribe (once), write what waited for the store, then load every entry into the mirror. */
  private sync(): Promise<void> {
    return (this.syncing ??= (async () => {
      try {
        if (this.closed) return;
        this.unsubscribe ??= await this.store.subscribe(CHANNEL, this.onMessage);
        for (const [id, entry] of this.pending) {
          if (!(await this.write(entry))) throw new StoreUnavailableError('A revocation made during the outage is not written yet');
          this.pending.delete(id);
        }
        await this.loadAll();
        this.synced = true;
      } catch (err) {
        // Still down or failing: the next onReady (recovery) tries again, or a retry while it serves.
        if (!(err instanceof StoreUnavailableError)) log('warn', 'denylist_store_failed', describeCause(err));
        if (!this.closed) setTimeout(() => { if (this.store.state === 'ok' && !this.synced) void this.sync(); }, 1_000).unref();
      } finally {
        this.syncing = undefined;
      }
    })());
  }

  /** Every entry under the prefix into the mirror (SCAN, then MGET per batch). */
  private async loadAll(): Promise<void> {
    const match = `${this.keyOf(DENY, '')}*`;
    let cursor = '0';
    do {
      const reply = await this.store.command(['SCAN', cursor, 'MATCH', match, 'COUNT', 500]);
      const [next, keys] = reply as [string, string[]];
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.store.command(['MGET', ...keys]) as Array<string | null>;
      keys.forEach((key, i) => {
        const value = values[i];
        if (typeof value === 'string') this.applySealed(key.slice(this.keyOf(DENY, '').length), value);
      });
    } while (cursor !== '0');
  }
}

/** The process's store-backed denylist, started (subscribing and loading in the background). */
export function createStoreDenylist(store: SessionStore, crypto: StoreCrypto): RedisSessionDenylist {
  return new RedisSessionDenylist(store, crypto).start();
}
