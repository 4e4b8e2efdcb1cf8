// The Node transport's side of docs/contract.md §9, as a few calls the transport makes at fixed points:
//   assignRequestId(req, res)         every request, first: the X-Request-Id (response, upstream, logs)
//   observeProxyRequest(req, res, …)  an /api/* request: its context, count and server span
//   startUpstreamCall(res, headers)   just before the request goes upstream: client span + traceparent
//   endUpstreamCall(res, status)      upstream response headers: latency histogram, client span ends
// With neither METRICS_PORT nor OTEL_EXPORTER_OTLP_ENDPOINT set, only the request id costs anything.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiRoute } from '../config';
import { countProxyRequest, metricsEnabled, observeUpstreamSeconds } from './metrics';
import type { RequestContext } from './request-context';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';
import { proxyRouteLabel } from './route-label';
import { endSpanWithError, endSpanWithStatus, startClientSpan, startServerSpan, traceparentOf, tracingEnabled, type Span } from './tracing';

interface Observation {
  route: string;
  span?: Span;
  upstreamSpan?: Span;
  upstreamStarted?: number;
}

// On the response object itself, as the transport keeps its exchange (a WeakMap entry would outlive it).
const OBSERVATION = Symbol('next-token-handler.proxy-observation');
type Observed = ServerResponse & { [OBSERVATION]?: Observation };

/** The request id of this request, set on the response and in the request's headers (so it goes upstream). */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdFor(req.headers[REQUEST_ID_HEADER]);
  req.headers[REQUEST_ID_HEADER] = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** Starts observing one /api/* request; run the transport inside the returned context. */
export function observeProxyRequest(req: IncomingMessage, res: ServerResponse, routes: readonly ApiRoute[], requestId: string): RequestContext {
  if (!metricsEnabled() && !tracingEnabled()) return { requestId };
  const route = proxyRouteLabel(req.url, routes);
  const method = req.method ?? 'GET';
  const span = startServerSpan(`${method} ${route}`, req.headers.traceparent, {
    'http.request.method': method, 'http.route': route, 'nth.component': 'proxy', 'nth.request_id': requestId,
  });
  const obs: Observation = { route, span };
  (res as Observed)[OBSERVATION] = obs;
  res.once('close', () => {
    // A response the client left before its headers went out: 499, as nginx counts it.
    const status = res.headersSent ? res.statusCode : 499;
    countProxyRequest(route, status);
    if (obs.upstreamSpan) endSpanWithError(obs.upstreamSpan, 'no_response');
    endSpanWithStatus(span, status);
  });
  return { requestId, span };
}

/** Just before the upstream call: the client span, and `traceparent` in the upstream headers. */
export function startUpstreamCall(res: ServerResponse, headers: Record<string, string>, method: string): void {
  const obs = (res as Observed)[OBSERVATION];
  if (!obs) return;
  obs.upstreamStarted = performance.now();
  obs.upstreamSpan = startClientSpan(obs.span, method, { 'http.request.method': method, 'nth.route': obs.route, 'nth.peer': 'upstream' });
  // W3C Trace Context §3.2: the upstream's spans become children of our client span (one trace).
  if (obs.upstreamSpan) headers.traceparent = traceparentOf(obs.upstreamSpan);
}

/** The upstream's response headers arrived. */
export function endUpstreamCall(res: ServerResponse, status: number | undefined): void {
  const obs = (res as Observed)[OBSERVATION];
  if (!obs || obs.upstreamStarted === undefined) return;
  observeUpstreamSeconds(obs.route, (performance.now() - obs.upstreamStarted) / 1000);
  obs.upstreamStarted = undefined;
  endSpanWithStatus(obs.upstreamSpan, status ?? 0);
  obs.upstreamSpan = undefined;
}
