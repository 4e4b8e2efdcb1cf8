// The session store's connection (docs/contract.md §6): the one module that imports the `redis` package
// (node-redis). Everything else talks to the store through `SessionStore`, which never waits long:
// every command has a deadline well under a second, and while the store is unreachable commands
// fail at once (no offline queue), so callers fall back to per-process behaviour.
import { createClient } from 'redis';
import type { SessionStoreConfig } from '../config';
import { describeCause } from '../errors';
import { log } from '../log';
import { countStoreError } from '../observability/metrics';

export type StoreState = 'ok' | 'unavailable';

/** Thrown by `command` when the store is down, slow or refuses us; callers degrade, never fail. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface SessionStoreOptions {
  /** Deadline of one command, ms (docs/contract.md §6: a store command never holds a request ~1 s). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

type Reply = string | number | null | Reply[];
/** The part of node-redis's client this module uses (its generic types do not survive a variable). */
interface Client {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  duplicate(): Client;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 500;
const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
const MAX_CONSECUTIVE_TIMEOUTS = 2;
// Reconnect with a capped backoff: quick after a blip, at most one attempt per 2 s in an outage.
const reconnectDelay = (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2_000);

export class SessionStore {
  readonly prefix: string;
  private readonly client: Client;
  private subscriber: Client | undefined;
  private current: StoreState = 'unavailable';
  private announcedDown = false;
  private readonly commandTimeoutMs: number;
  private probe: NodeJS.Timeout | undefined;
  private closing = false;
  private consecutiveTimeouts = 0;
  private settle: (() => void) | undefined;
  private firstAttemptDone = false;
  private readonly firstAttempt = new Promise<void>((r) => { this.settle = () => { this.firstAttemptDone = true; r(); }; });
  private readonly connectTimeoutMs: number;
  private readonly readyListeners = new Set<() => void>();

  constructor(private readonly config: SessionStoreConfig, opts: SessionStoreOptions = {}) {
    this.prefix = config.prefix;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.client = this.connect(this.connectTimeoutMs);
  }

  /** Resolves once the first connection attempt succeeded or failed, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<StoreState> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstAttempt, new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
    clearTimeout(timer);
    return this.current;
  }

  /** 'ok' while connected and answering; checked without a round trip. */
  get state(): StoreState {
    return this.current;
  }

  /**
   * Runs one command (e.g. `['SET', key, value, 'NX', 'PX', '15000']`) within the deadline.
   * Throws StoreUnavailableError at once while the store is unreachable, or when it does not answer in time.
   */
  async command(args: readonly (string | number)[]): Promise<Reply> {
    // A store created just now is still connecting: wait for that first attempt (bounded), so the
    // first refresh of a fresh instance is coordinated instead of falling back to per-process.
    if (!this.firstAttemptDone) await this.settled(this.connectTimeoutMs);
    if (this.current !== 'ok' || !this.client.isReady) throw new StoreUnavailableError('The session store is unavailable');
    let reply: Reply;
    try {
      reply = await this.withDeadline(this.client.sendCommand(args.map(String), { timeout: this.commandTimeoutMs * 2 }) as Promise<Reply>);
    } catch (err) {
      // A Redis error reply (wrong type, script error) is an answer; anything else means the store is not serving.
      if (err instanceof Error && err.constructor.name === 'ErrorReply' && !/NOAUTH|WRONGPASS|LOADING|BUSY/.test(err.message)) throw err;
      // One slow answer may be a moment of load; two in a row, or a broken connection, is an outage.
      countStoreError();
      if (!(err instanceof StoreUnavailableError) || ++this.consecutiveTimeouts >= MAX_CONSECUTIVE_TIMEOUTS) this.markDown(err);
      throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError('The session store did not answer', { cause: err });
    }
    this.consecutiveTimeouts = 0;
    return reply;
  }

  /**
   * Calls `listener` each time the store becomes usable: the first connection and every recovery
   * after an outage (when pub/sub messages may have been missed). Returns the unsubscribe function.
   */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => { this.readyListeners.delete(listener); };
  }

  /** Runs a Lua script (EVAL), within the same deadline. */
  evaluate(script: string, keys: readonly string[], args: readonly (string | number)[]): Promise<Reply> {
    return this.command(['EVAL', script, keys.length, ...keys, ...args]);
  }

  /**
   * Calls `listener` with every message published on `channel` (prefixed like keys), on a second
   * connection that reconnects by itself. Returns the unsubscribe function.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    if (!this.subscriber) {
      this.subscriber = this.client.duplicate();
      this.subscriber.on('error', () => { /* the main connection reports the state */ });
    }
    // A first connect that failed outright leaves the client closed: it is retried on the next call.
    if (!this.subscriber.isOpen) await this.withDeadline(this.subscriber.connect());
    const name = `${this.prefix}${channel}`;
    await this.withDeadline(this.subscriber.subscribe(name, listener));
    return async () => { await this.subscriber?.unsubscribe(name, listener); };
  }

  /** Publishes on a (prefixed) channel; fails like `command`. */
  async publish(channel: string, message: string): Promise<void> {
    await this.command(['PUBLISH', `${this.prefix}${channel}`, message]);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.probe);
    await Promise.allSettled([this.client.close(), this.subscriber?.close()]);
  }

  private connect(connectTimeoutMs: number): Client {
    const client = createClient({
      url: this.config.url,
      disableOfflineQueue: true,
      // A server that accepts the connection but never answers is found within a few seconds.
      pingInterval: 1_000,
      socket: { connectTimeout: connectTimeoutMs, socketTimeout: 5_000, reconnectStrategy: reconnectDelay },
    }) as unknown as Client;
    client.on('ready', () => { void this.checkServing(); });
    client.on('error', (err: unknown) => this.markDown(err));
    client.on('end', () => this.markDown(new Error('connection closed')));
    // connect() rejects when the first attempt fails (down, wrong password); the client keeps
    // reconnecting unless the failure was the handshake, which connectUntilReady retries.
    void this.connectUntilReady(client);
    return client;
  }

  private async connectUntilReady(client: Client): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await client.connect();
        return;
      } catch (err) {
        if (this.closing) return;
        this.markDown(err);
        if (client.isOpen) return; // the client's own reconnect strategy carries on
        await new Promise((r) => setTimeout(r, reconnectDelay(attempt)).unref());
      }
    }
  }

  /** 'ready' fires after the handshake; one PING within the deadline confirms it serves. */
  private async checkServing(): Promise<void> {
    try {
      await this.withDeadline(this.client.sendCommand(['PING'], { timeout: this.commandTimeoutMs * 2 }));
      this.markUp();
    } catch (err) {
      this.markDown(err);
    }
  }

  private markUp(): void {
    this.settle?.();
    this.consecutiveTimeouts = 0;
    clearInterval(this.probe);
    this.probe = undefined;
    if (this.current === 'ok') return;
    this.current = 'ok';
    if (this.announcedDown) log('info', 'store_recovered', { store: this.config.displayUrl });
    this.announcedDown = false;
    for (const listener of this.readyListeners) {
      try { listener(); } catch { /* one listener's failure must not stop the others */ }
    }
  }

  private markDown(err: unknown): void {
    this.settle?.();
    this.current = 'unavailable';
    if (this.closing) return;
    if (!this.announcedDown) {
      this.announcedDown = true;
      log('warn', 'store_unavailable', { store: this.config.displayUrl, ...describeCause(err) });
    }
    // While the connection looks open (a timeout, not a drop), probe until it answers again.
    this.probe ??= setInterval(() => { if (this.client.isReady) void this.checkServing(); }, 1_000).unref();
  }

  /**
   * Rejects when `promise` is still pending after the deadline. A late timer can mean a busy event
   * loop rather than a slow store: the reply may already sit in the socket buffer, and timers run
   * before I/O. So the deadline yields once to the I/O phase (setImmediate) before it rejects.
   */
  private withDeadline<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => setImmediate(() => {
        if (!settled) reject(new StoreUnavailableError('The session store command timed out'));
      }), this.commandTimeoutMs);
    });
    return Promise.race([promise.finally(() => { settled = true; }), deadline]).finally(() => clearTimeout(timer));
  }
}

// One connection per process (lib/ loads once per process).
let shared: SessionStore | undefined;

/** The process's store, connected on first use; undefined without SESSION_STORE_URL. */
export function getSessionStore(config: { sessionStore: SessionStoreConfig | undefined }): SessionStore | undefined {
  if (!config.sessionStore) return undefined;
  return (shared ??= new SessionStore(config.sessionStore));
}

/** For /readyz: 'none' without a store, else its state (no round trip once connected). */
export async function sessionStoreState(config: { sessionStore: SessionStoreConfig | undefined }): Promise<StoreState | 'none'> {
  const store = getSessionStore(config);
  return store ? store.settled(500) : 'none';
}
