// Transport A (proxy.ts under `next start` / Vercel): forwards with fetch and builds the browser's
// response from filtered headers. Not NextResponse.rewrite: a rewrite leaks the upstream's Set-Cookie
// and `x-middleware-rewrite: <upstream URL>` (measured, docs/architecture.md). Web APIs only.
import { getConfig, type Config } from '../config';
import { toErrorResponse } from '../errors';
import { log } from '../log';
import { afterUpstream, beforeUpstream, type FetchProxyObservation } from '../observability/fetch-proxy-observation';
import { planForward, type ForwardPlan } from './plan-forward';
import { mayRetryAfterRefresh, refreshAfterRejection, refreshBeforeForward, upstreamRejectedToken } from './refresh-before-forward';
import { planWithDpopNonce } from './upstream-authorization';
import { isRelayableStatus, toBrowserHeaders, withProxyResponseHeaders } from './response-headers';
import { invalidUpstreamStatus, payloadTooLarge, toUpstreamError, UpstreamTimeoutError } from './upstream-failure';

/**
 * Next buffers the body it hands to proxy.ts up to `proxyClientMaxBodySize` (10 MiB by default) and
 * silently cuts it there. A cut body is at least this limit minus one socket read (≤ 64 KiB) long,
 * so bodies are capped 1 MiB below it: anything longer is refused, and a cut body always is.
 */
export const NEXT_BODY_BUFFER_BYTES = 10 * 1024 * 1024;
const NEXT_TRANSPORT_BODY_LIMIT = NEXT_BODY_BUFFER_BYTES - 1024 * 1024;

// fetch (undici) decodes these transparently; their Content-Encoding/Length no longer describe the body.
const DECODED_BY_FETCH = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

export interface FetchTransportOptions {
  config?: Config;
  fetch?: typeof fetch;
  /** [observability] request id, traceparent and upstream latency (lib/observability). */
  observation?: FetchProxyObservation;
}

export async function forwardWithFetch(request: Request, opts: FetchTransportOptions = {}): Promise<Response> {
  const config = opts.config ?? getConfig();
  const url = new URL(request.url);
  const started = performance.now();
  // Once a refresh has rotated the tokens, every response from here on carries the new cookies, errors
  // included: a browser left with the old ones would lose its session when the grace window ends.
  let setCookies: string[] = [];
  try {
    // The fragment too: a raw `#` in the request target is refused (docs/contract.md §3), not silently cut.
    const planned = planForward({ method: request.method, target: url.pathname + url.search + url.hash, headers: request.headers }, config);
    const refreshed = await refreshBeforeForward(planned, request.headers, config);
    let plan = refreshed.plan;
    setCookies = refreshed.setCookies;
    const body = await readLimitedBody(request, Math.min(config.maxBodyBytes, NEXT_TRANSPORT_BODY_LIMIT));
    const doFetch = opts.fetch ?? fetch;
    beforeUpstream(opts.observation, plan.headers, request.method); // [observability]
    let upstream = await fetchUpstream(plan, request, body, config.upstreamTimeoutMs, doFetch);
    // RFC 9449 §9: one retry with the upstream's new nonce (the body is buffered here, so it can be sent again).
    const withNonce = planWithDpopNonce(plan, upstream.status, upstream.headers.get('www-authenticate'), upstream.headers.get('dpop-nonce'));
    if (withNonce) {
      await upstream.body?.cancel();
      plan = withNonce;
      upstream = await fetchUpstream(plan, request, body, config.upstreamTimeoutMs, doFetch);
    }
    afterUpstream(opts.observation, upstream.status); // [observability]
    if (mayRetryAfterRefresh(request.method, body !== undefined, setCookies.length > 0)
      && upstreamRejectedToken(upstream.status, upstream.headers.get('www-authenticate'))) {
      const again = await refreshAfterRejection(plan, request.headers, config).catch(async (err: unknown) => {
        await upstream.body?.cancel();
        throw err;
      });
      if (again.setCookies.length > 0) {
        await upstream.body?.cancel();
        plan = again.plan;
        setCookies = again.setCookies;
        beforeUpstream(opts.observation, plan.headers, request.method); // [observability]
        upstream = await fetchUpstream(plan, request, undefined, config.upstreamTimeoutMs, doFetch);
        afterUpstream(opts.observation, upstream.status); // [observability]
      }
    }
    // Contract §3: a status no browser response may carry is the upstream's failure, not an answer.
    if (!isRelayableStatus(upstream.status, false)) { await upstream.body?.cancel(); throw invalidUpstreamStatus(upstream.status); }
    const headers = toBrowserHeaders(upstream.headers, {
      route: plan.route, upstreamUrl: plan.upstreamUrl, publicOrigin: config.publicOrigin,
    }, setCookies);
    const encoding = String(headers['content-encoding'] ?? '').toLowerCase();
    if (DECODED_BY_FETCH.has(encoding)) { delete headers['content-encoding']; delete headers['content-length']; }
    log('debug', 'api_forwarded', { transport: 'next', route: plan.route.prefix, status: upstream.status, refreshed: setCookies.length > 0, ms: Math.round(performance.now() - started) });
    return new Response(upstream.body, { status: upstream.status, headers: toHeaders(headers) });
  } catch (err) {
    return withProxyResponseHeaders(toErrorResponse(toUpstreamError(err), { transport: 'next', method: request.method, path: url.pathname }), setCookies);
  }
}

/** The whole body (Next has buffered it already), or 413 when it is over the limit or was cut short. */
async function readLimitedBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (request.method === 'GET' || request.method === 'HEAD' || !request.body) return undefined;
  const declared = request.headers.get('content-length');
  if (declared !== null && !(Number(declared) <= limit)) throw payloadTooLarge();
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > limit) { await reader.cancel(); throw payloadTooLarge(); }
    chunks.push(value);
  }
  // Never forward a truncated body: fewer bytes than declared means Next stopped buffering.
  if (declared !== null && received !== Number(declared)) throw payloadTooLarge();
  if (received === 0) return declared === null ? undefined : new Uint8Array(0);
  // Next hands over its buffer as one chunk: forwarded as is, without a copy.
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

/** UPSTREAM_TIMEOUT_MS bounds the wait for response headers only; a stream is not cut afterwards. */
async function fetchUpstream(plan: ForwardPlan, request: Request, body: Uint8Array<ArrayBuffer> | undefined, timeoutMs: number, doFetch: typeof fetch): Promise<Response> {
  const headers = { ...plan.headers };
  delete headers.host; // fetch sets Host from the URL
  delete headers['content-length']; // and Content-Length from the buffered body
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new UpstreamTimeoutError()), timeoutMs);
  // The browser going away cancels the upstream call too.
  const onClientAbort = () => controller.abort(request.signal.reason);
  request.signal?.addEventListener('abort', onClientAbort, { once: true });
  try {
    return await doFetch(plan.upstreamUrl, {
      method: request.method, headers, body, redirect: 'manual', cache: 'no-store', signal: controller.signal,
    });
  } catch (err) {
    throw controller.signal.reason instanceof UpstreamTimeoutError ? controller.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}

function toHeaders(record: Record<string, string | string[]>): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(record)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x); else h.set(k, v);
  }
  return h;
}
