// Single-flight for refresh-token grants: with rotating refresh tokens (RFC 9700 §4.14.2), two
// concurrent grants with the same token make the identity server see a reuse and revoke the grant.

/** At most one `fn` per key runs at a time; concurrent callers with that key share its outcome. */
export interface RefreshCoordinator {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Per-process coordination. A shared store (e.g. a Redis lock) implements the same interface. */
export class InMemoryRefreshCoordinator implements RefreshCoordinator {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) return pending as Promise<T>;
    const promise = (async () => {
      try { return await fn(); } finally { this.inFlight.delete(key); }
    })();
    this.inFlight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.inFlight.size;
  }
}
