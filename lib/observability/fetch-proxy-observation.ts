// The fetch transport's side of docs/contract.md §9 (proxy.ts under `next start`): observeFetchProxy wraps
// one /api/* request (request id, context, count, server span); beforeUpstream/afterUpstream mark
// the upstream call (request id and traceparent upstream, latency, client span).
import { getConfig, type Config } from '../config';
import { countProxyRequest, metricsEnabled, observeUpstreamSeconds } from './metrics';
import { runInRequestContext } from './request-context';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';
import { proxyRouteLabel } from './route-label';
import { endSpanWithError, endSpanWithStatus, startClientSpan, startServerSpan, traceparentOf, tracingEnabled, type Span } from './tracing';

export interface FetchProxyObservation {
  readonly requestId: string;
  /** undefined when neither metrics nor traces are on. */
  readonly route?: string;
  readonly span?: Span;
  upstreamSpan?: Span;
  upstreamStarted?: number;
}

/** `config`: the app's (contract §8), whose API_ROUTES name the route label; the process's by default. */
export async function observeFetchProxy(request: Request, forward: (obs: FetchProxyObservation) => Promise<Response>,
  config: Pick<Config, 'apiRoutes'> = getConfig()): Promise<Response> {
  const requestId = requestIdFor(request.headers.get(REQUEST_ID_HEADER));
  const on = metricsEnabled() || tracingEnabled();
  const route = on ? proxyRouteLabel(new URL(request.url).pathname, config.apiRoutes) : undefined;
  const span = on ? startServerSpan(`${request.method} ${route}`, request.headers.get('traceparent'), {
    'http.request.method': request.method, 'http.route': route, 'nth.component': 'proxy', 'nth.request_id': requestId,
  }) : undefined;
  const obs: FetchProxyObservation = { requestId, route, span };
  const response = await runInRequestContext({ requestId, span }, () => forward(obs));
  response.headers.set(REQUEST_ID_HEADER, requestId);
  if (route !== undefined) {
    countProxyRequest(route, response.status);
    if (obs.upstreamSpan) endSpanWithError(obs.upstreamSpan, 'no_response');
    endSpanWithStatus(span, response.status);
  }
  return response;
}

/** Just before an upstream call: our request id and (with tracing) the client span's traceparent. */
export function beforeUpstream(obs: FetchProxyObservation | undefined, headers: Record<string, string>, method: string): void {
  if (!obs) return;
  headers[REQUEST_ID_HEADER] = obs.requestId;
  if (obs.route === undefined) return;
  obs.upstreamStarted = performance.now();
  obs.upstreamSpan = startClientSpan(obs.span, method, { 'http.request.method': method, 'nth.route': obs.route, 'nth.peer': 'upstream' });
  if (obs.upstreamSpan) headers.traceparent = traceparentOf(obs.upstreamSpan); // W3C Trace Context §3.2
}

/** The upstream's response headers arrived. */
export function afterUpstream(obs: FetchProxyObservation | undefined, status: number): void {
  if (obs?.route === undefined || obs.upstreamStarted === undefined) return;
  observeUpstreamSeconds(obs.route, (performance.now() - obs.upstreamStarted) / 1000);
  obs.upstreamStarted = undefined;
  endSpanWithStatus(obs.upstreamSpan, status);
  obs.upstreamSpan = undefined;
}
