// The Node transport's connections to upstreams: one undici Pool per upstream origin (the only
// module that imports undici). Measured against http-proxy-middleware and node:http on this machine
// (README "Performance"): the cheapest way to send a request and stream its answer back.
import { Pool, type Dispatcher } from 'undici';

/** What a proxied request hears back from its upstream (undici's dispatch handler, new API). */
export type UpstreamHandler = Dispatcher.DispatchHandler;
/** Pauses, resumes or aborts one upstream call. */
export type UpstreamCall = Dispatcher.DispatchController;

export interface UpstreamRequest {
  method: string;
  /** Path and query on the upstream, sent verbatim. */
  path: string;
  /** Lower-case header record; Host is the upstream's. */
  headers: Record<string, string>;
  /** The request body as chunks (server/request-body.ts), or none. */
  body?: AsyncIterable<Buffer> | null;
  /** The app's UPSTREAM_TIMEOUT_MS (contract §8: it may differ per app); the pool's when absent. */
  headersTimeoutMs?: number;
}

// An idle pooled socket is dropped after 4 s, before the 5 s keep-alive timeout of Node upstreams:
// reusing one the upstream is closing at that moment fails the request (502, seen in tests). A
// shorter Keep-Alive hint from the upstream is honoured by undici itself.
const IDLE_UPSTREAM_SOCKET_MS = 4_000;

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  /** `headersTimeoutMs`: UPSTREAM_TIMEOUT_MS, counted from the last request byte sent to the response headers. */
  constructor(private readonly headersTimeoutMs: number) {}

  /** Sends `request` to `origin`; every outcome, errors included, arrives at `handler`. */
  dispatch(origin: string, request: UpstreamRequest, handler: UpstreamHandler): void {
    // undici reads an async iterable body chunk by chunk (its types list only streams and buffers).
    const body = (request.body ?? null) as Dispatcher.DispatchOptions['body'];
    const headersTimeout = request.headersTimeoutMs ?? this.headersTimeoutMs;
    this.poolFor(origin).dispatch({ path: request.path, method: request.method, headers: request.headers, body, headersTimeout }, handler);
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        // Keep-alive per upstream: measured 5-7x the throughput of a connection per request (architecture.md).
        keepAliveTimeout: IDLE_UPSTREAM_SOCKET_MS,
        keepAliveMaxTimeout: IDLE_UPSTREAM_SOCKET_MS,
        headersTimeout: this.headersTimeoutMs,
        bodyTimeout: 0, // docs/contract.md §4: streams are not cut once headers have arrived
        pipelining: 1,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

/** undici's name for "no response headers within headersTimeout". */
export const isHeadersTimeout = (err: Error) => (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';
