// Test doubles for the client library's unit tests: a scripted `fetch`, a location/history pair and
// an in-memory "browser" shared by several tabs (BroadcastChannel + Web Locks semantics).
import type { ChannelLike, CrossTabEnv, LockManagerLike } from './cross-tab';
import type { HistoryLike, LocationLike } from './client-types';

export interface Call { method: string; path: string; search: URLSearchParams; headers: Headers; body: string }
type Handler = (call: Call) => Response | Promise<Response>;

export const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export const ORIGIN = 'https://app.example';

/** A fetch that routes `METHOD /path` to handlers and records every request it received. */
export function scriptedFetch(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetch: typeof globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const call = { method: request.method, path: url.pathname, search: url.searchParams, headers: request.headers, body: await request.text() };
    calls.push(call);
    const handler = routes[`${request.method} ${url.pathname}`] ?? routes[`* ${url.pathname}`];
    if (!handler) return json(404, { code: 'not_found', message: 'no route' });
    return handler(call);
  }) as typeof globalThis.fetch;
  return { fetch, calls, count: (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path).length };
}

export function fakeWindow(href: string) {
  const assigned: string[] = [];
  const replaced: string[] = [];
  const location: LocationLike & { href: string } = { href, origin: new URL(href).origin, assign: (u) => { assigned.push(u); } };
  const history: HistoryLike = {
    state: null,
    replaceState: (_data, _unused, url) => { replaced.push(url!); location.href = new URL(url!, location.href).href; },
  };
  return { location, history, assigned, replaced };
}

/** One browser profile: every tab created from it shares the channel and the lock. */
export function fakeBrowser() {
  const channels: Array<{ name: string; deliver: (data: unknown) => void; owner: object }> = [];
  const messages: unknown[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  const locks: LockManagerLike = {
    request<T>(_name: string, callback: () => Promise<T>): Promise<T> {
      const run = chain.then(callback, callback);
      chain = run.catch(() => {});
      return run;
    },
  };
  const tab = (): CrossTabEnv => {
    const owner = {};
    return {
      locks,
      createChannel: (name): ChannelLike => {
        const listeners: Array<(e: { data: unknown }) => void> = [];
        channels.push({ name, owner, deliver: (data) => listeners.forEach((fn) => fn({ data: structuredClone(data) })) });
        return {
          // Like BroadcastChannel: every other channel of that name receives it, asynchronously.
          postMessage: (data) => {
            messages.push(data);
            for (const c of channels) if (c.name === name && c.owner !== owner) queueMicrotask(() => c.deliver(data));
          },
          addEventListener: (_type, fn) => { listeners.push(fn); },
          close: () => {},
        };
      },
    };
  };
  return { tab, messages };
}

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
