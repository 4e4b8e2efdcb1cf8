// Tabs of the same app share the session cookies, so they coordinate: one refresh at a time across
// tabs (the others reuse its result), and sign-out or expiry in one tab is announced to the others.
// Messages carry only an event type and a time: never a token or the CSRF value (both would become
// readable to any script on the origin through storage or message logs).

export type CrossTabMessage =
  | { type: 'login'; at: number }
  | { type: 'logout'; at: number }
  | { type: 'session_expired'; at: number }
  | { type: 'refresh_started'; at: number }
  | { type: 'refreshed'; at: number }
  | { type: 'refresh_failed'; at: number };

const MESSAGE_TYPES = new Set(['login', 'logout', 'session_expired', 'refresh_started', 'refreshed', 'refresh_failed']);

export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', fn: (event: { data: unknown }) => void): void;
  close(): void;
}

export interface StorageLike {
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface CrossTabEnv {
  locks?: LockManagerLike;
  createChannel?: (name: string) => ChannelLike;
  /** Fallback transport when BroadcastChannel is missing: `storage` events of localStorage. */
  storage?: StorageLike;
  addStorageListener?: (fn: (event: { key: string | null; newValue: string | null }) => void) => void;
}

const NAME = 'next-token-handler';
/** How long a tab without Web Locks waits for another tab's announced refresh before doing its own. */
const FOREIGN_REFRESH_WAIT_MS = 10_000;

function parse(data: unknown): CrossTabMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const { type, at } = data as { type?: unknown; at?: unknown };
  return typeof type === 'string' && MESSAGE_TYPES.has(type) && typeof at === 'number' ? { type, at } as CrossTabMessage : null;
}

export class CrossTab {
  private readonly channel: ChannelLike | null;
  private readonly listeners = new Set<(m: CrossTabMessage) => void>();
  /** Fallback lock: set while another tab announced a refresh it has not finished. */
  private foreignRefresh: { promise: Promise<boolean>; settle: (ok: boolean) => void } | null = null;
  private readonly name: string;

  /** `scope` separates apps on one origin (contract §8): a logout in /admin is no event for /shop's tabs. */
  constructor(private readonly env: CrossTabEnv, scope = '') {
    this.name = scope ? `${NAME}:${scope}` : NAME;
    this.channel = env.createChannel ? env.createChannel(this.name) : null;
    if (this.channel) {
      this.channel.addEventListener('message', (event) => this.receive(event.data));
    } else if (env.storage && env.addStorageListener) {
      env.addStorageListener((event) => {
        if (event.key !== `${this.name}.message` || !event.newValue) return;
        try { this.receive(JSON.parse(event.newValue)); } catch { /* not ours */ }
      });
    }
  }

  onMessage(fn: (m: CrossTabMessage) => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  post(type: CrossTabMessage['type']): void {
    const message = { type, at: Date.now() };
    if (this.channel) {
      this.channel.postMessage(message);
    } else if (this.env.storage) {
      // A storage event fires in the other tabs only; remove at once so nothing lingers in storage.
      try {
        this.env.storage.setItem(`${this.name}.message`, JSON.stringify({ ...message, n: Math.random() }));
        this.env.storage.removeItem(`${this.name}.message`);
      } catch { /* storage disabled: tabs simply do not coordinate */ }
    }
  }

  /**
   * Runs `refresh` while holding the app-wide refresh lock. With Web Locks the browser serialises the
   * tabs; without, a tab that heard another announce a refresh waits for its outcome instead.
   * `stillNeeded` is asked once the lock is held: another tab may have refreshed in the meantime.
   */
  async withRefreshLock(stillNeeded: () => boolean, refresh: () => Promise<void>): Promise<void> {
    if (this.env.locks) {
      return this.env.locks.request(`${this.name}.refresh`, async () => {
        if (stillNeeded()) await refresh();
      });
    }
    if (this.foreignRefresh) {
      const ok = await this.foreignRefresh.promise;
      if (ok && !stillNeeded()) return;
    }
    if (!stillNeeded()) return;
    this.post('refresh_started');
    await refresh();
  }

  close(): void {
    this.channel?.close();
  }

  private receive(data: unknown): void {
    const message = parse(data);
    if (!message) return;
    if (message.type === 'refresh_started' && !this.foreignRefresh) {
      let settle!: (ok: boolean) => void;
      const promise = new Promise<boolean>((resolve) => { settle = resolve; });
      const timer = setTimeout(() => settle(false), FOREIGN_REFRESH_WAIT_MS);
      this.foreignRefresh = { promise, settle: (ok) => { clearTimeout(timer); settle(ok); } };
      void promise.then(() => { this.foreignRefresh = null; });
    } else if (message.type === 'refreshed' || message.type === 'refresh_failed' || message.type === 'session_expired') {
      this.foreignRefresh?.settle(message.type === 'refreshed');
    }
    for (const fn of [...this.listeners]) fn(message);
  }
}

/** The browser's own coordination primitives, where present. */
export function browserCrossTabEnv(): CrossTabEnv {
  const g = globalThis as unknown as {
    navigator?: { locks?: LockManagerLike };
    BroadcastChannel?: new (name: string) => ChannelLike;
    localStorage?: StorageLike;
    addEventListener?: (type: 'storage', fn: (event: { key: string | null; newValue: string | null }) => void) => void;
  };
  const Channel = g.BroadcastChannel;
  let storage: StorageLike | undefined;
  try { storage = g.localStorage; } catch { /* access denied (e.g. sandboxed iframe) */ }
  return {
    locks: g.navigator?.locks && typeof g.navigator.locks.request === 'function' ? g.navigator.locks : undefined,
    createChannel: Channel ? (name) => new Channel(name) : undefined,
    storage,
    addStorageListener: g.addEventListener ? (fn) => g.addEventListener!('storage', fn) : undefined,
  };
}
