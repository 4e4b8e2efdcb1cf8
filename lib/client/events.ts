// A minimal typed event emitter: the app subscribes with `on(event, fn)` and gets an unsubscribe.

export type TokenHandlerEvent = 'login' | 'logout' | 'refresh' | 'session_expired';

export interface TokenHandlerEventDetail {
  /** `this-tab` when this page caused it; `other-tab` when another tab of the app announced it. */
  source: 'this-tab' | 'other-tab';
}

export type Listener = (detail: TokenHandlerEventDetail) => void;

export class Emitter {
  private readonly listeners = new Map<TokenHandlerEvent, Set<Listener>>();

  on(event: TokenHandlerEvent, fn: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => { set.delete(fn); };
  }

  emit(event: TokenHandlerEvent, detail: TokenHandlerEventDetail): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      // A throwing listener must not stop the others nor break the library call that emitted.
      try { fn(detail); } catch (err) { queueMicrotask(() => { throw err; }); }
    }
  }
}
