// The session denylist shared through Redis/Valkey (contract §6/§7): every revocation is a key with
// a TTL (the longest a matching session can still be valid) and a message on one pub/sub channel;
// every instance keeps the in-process mirror current from those messages, so the per-request check
// stays a Map lookup with no round trip. A new or reconnected instance loads the keys first.
// Its own minimal use of node-redis: the shared store client of lib/store may replace it.
import { createClient, type RedisClientType } from 'redis';
import { describeCause } from '../errors';
import { log } from '../log';
import { InProcessDenylist } from '../revocation/in-process-denylist';
import type { RevocableSession, Revocation, SessionDenylist } from '../revocation/session-denylist';

export interface RedisDenylistOptions {
  /** SESSION_STORE_URL. */
  url: string;
  /** SESSION_STORE_PREFIX (default `nth:`): several deployments may share one server. */
  prefix?: string;
  /** Bound on any one store command (contract §6: never holds a request longer than ~1 s). */
  commandTimeoutMs?: number;
}

interface Entry { r: Revocation; u: number }

const nowSeconds = () => Math.floor(Date.now() / 1000);

function keyOf(prefix: string, r: Revocation): string {
  if (r.kind === 'session') return `${prefix}deny:s:${r.sid}`;
  if (r.kind === 'idp-session') return `${prefix}deny:i:${encodeURIComponent(r.iss)}:${r.idpSid}`;
  return `${prefix}deny:u:${encodeURIComponent(r.iss)}:${r.sub}`;
}

function parseEntry(text: string | null | undefined): Entry | undefined {
  if (!text) return undefined;
  try {
    const e = JSON.parse(text) as Entry;
    if (typeof e?.u !== 'number' || typeof e.r?.kind !== 'string') return undefined;
    return e;
  } catch { return undefined; }
}

export class RedisSessionDenylist implements SessionDenylist {
  /** The local mirror every request checks; also the fallback while the store is unreachable. */
  readonly local = new InProcessDenylist();
  private readonly prefix: string;
  private readonly channel: string;
  private readonly timeoutMs: number;
  private readonly client: RedisClientType;
  private readonly subscriber: RedisClientType;
  private unavailable = false;

  constructor(opts: RedisDenylistOptions) {
    this.prefix = opts.prefix ?? 'nth:';
    this.channel = `${this.prefix}denylist`;
    this.timeoutMs = opts.commandTimeoutMs ?? 1000;
    // Reconnects by itself with a capped back-off; commands fail fast while disconnected.
    const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 2000);
    this.client = createClient({ url: opts.url, disableOfflineQueue: true, socket: { connectTimeout: this.timeoutMs, reconnectStrategy } }) as RedisClientType;
    this.subscriber = this.client.duplicate() as RedisClientType;
    for (const c of [this.client, this.subscriber]) c.on('error', (err: unknown) => this.markUnavailable(err));
    // After a reconnect the messages sent meanwhile are lost: the keys are read again.
    this.subscriber.on('ready', () => { if (this.client.isReady) void this.loadAll(); });
  }

  /**
   * Connects both clients, subscribes, then loads the entries already in the store. Bounded: with the
   * store unreachable it returns anyway (serving from this instance's memory) and keeps reconnecting.
   */
  async connect(): Promise<this> {
    const subscribed = this.subscriber.connect().then(() => this.subscriber.subscribe(this.channel, (message) => {
      const e = parseEntry(message);
      if (e) this.local.applyRevocation(e.r, e.u);
    }));
    const connected = this.client.connect();
    subscribed.catch(() => {});
    connected.catch(() => {});
    await this.bounded(async () => {
      await Promise.all([connected, subscribed]);
      await this.loadAll();
    }, this.timeoutMs * 3);
    return this;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber, this.client].map((c) => (c.isReady ? c.quit() : c.destroy())));
  }

  isRevoked(session: RevocableSession, now?: number): boolean {
    return this.local.isRevoked(session, now);
  }

  async revoke(revocation: Revocation, until: number): Promise<void> {
    // This instance refuses the session at once, whatever the store does.
    this.local.applyRevocation(revocation, until);
    const ttl = until - nowSeconds();
    if (ttl <= 0) return;
    const message = JSON.stringify({ r: revocation, u: until } satisfies Entry);
    await this.bounded(async () => {
      await this.client.set(keyOf(this.prefix, revocation), message, { expiration: { type: 'EX', value: ttl } });
      await this.client.publish(this.channel, message);
    });
  }

  async claimLogoutToken(iss: string, jti: string, until: number): Promise<boolean> {
    const ttl = Math.max(1, until - nowSeconds());
    const key = `${this.prefix}jti:${encodeURIComponent(iss)}:${jti}`;
    const claimed = await this.bounded(async () => (await this.client.set(key, '1', { expiration: { type: 'EX', value: ttl }, condition: 'NX' })) === 'OK');
    // Store down: this instance's own memory decides (a replay elsewhere repeats an idempotent revocation).
    return claimed ?? this.local.claimLogoutToken(iss, jti, until);
  }

  onRevoked(listener: (r: Revocation) => void): () => void {
    return this.local.onRevoked(listener);
  }

  /** Every entry in the store into the mirror (start-up, reconnect). */
  private async loadAll(): Promise<void> {
    await this.bounded(async () => {
      for await (const keys of this.client.scanIterator({ MATCH: `${this.prefix}deny:*`, COUNT: 500 })) {
        if (keys.length === 0) continue;
        const values = await this.client.mGet(keys);
        for (const v of values) {
          const e = parseEntry(v);
          if (e) this.local.applyRevocation(e.r, e.u);
        }
      }
    }, 10_000);
  }

  /** Runs a store operation within the time bound; undefined (and logged once per outage) when it fails. */
  private async bounded<T>(op: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        op(),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('store command timed out')), timeoutMs); }),
      ]);
      if (this.unavailable) {
        this.unavailable = false;
        log('info', 'denylist_store_recovered', {});
      }
      return result;
    } catch (err) {
      this.markUnavailable(err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private markUnavailable(err: unknown): void {
    if (this.unavailable) return;
    this.unavailable = true;
    log('warn', 'denylist_store_unavailable', describeCause(err));
  }
}

/** A connected store-backed denylist, for installSessionDenylist() at start-up. */
export function createRedisSessionDenylist(opts: RedisDenylistOptions): Promise<RedisSessionDenylist> {
  return new RedisSessionDenylist(opts).connect();
}
