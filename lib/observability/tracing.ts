// OpenTelemetry spans (docs/contract.md §9), the only module that imports @opentelemetry/api and
// @opentelemetry/core. A server span per agent and /api request, client spans for identity-server
// and upstream calls, W3C Trace Context (https://www.w3.org/TR/trace-context/) forwarded upstream.
// Attributes are chosen, never copied from the request: method, route label, status, host and the
// URL without its query. No token, cookie, code or state can reach a span that way.
// Without OTEL_EXPORTER_OTLP_ENDPOINT every function here returns at its first check.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TracerProvider, type Tracer } from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { getConfig } from '../config';

/** Our instrumentation scope: only spans of this scope are exported (lib/observability/start-tracing.ts). */
export const TRACER_NAME = 'next-token-handler';

export type { Span };

let tracer: Tracer | null | undefined;

function tracingWanted(): boolean {
  try { return getConfig().otel !== undefined; } catch { return false; } // a bad config stops the server at start
}

function activeTracer(): Tracer | null {
  // The global tracer provider lives in @opentelemetry/api's own process-wide slot, so Next's copy of
  // this module and dist/server.mjs's find the one provider start-tracing.ts installed.
  if (tracer === undefined) tracer = tracingWanted() ? trace.getTracer(TRACER_NAME) : null;
  return tracer;
}

export const tracingEnabled = (): boolean => activeTracer() !== null;

/** Installs the SDK's provider process-wide (called once, by start-tracing.ts). */
export function installTracerProvider(provider: TracerProvider): void {
  trace.setGlobalTracerProvider(provider);
  tracer = trace.getTracer(TRACER_NAME);
}

/**
 * A server span, continuing the caller's trace when its `traceparent` is well-formed (W3C Trace
 * Context §3.2: version, 32-hex trace id, 16-hex parent id, flags; all-zero ids are invalid).
 */
export function startServerSpan(name: string, incomingTraceparent: string | string[] | null | undefined, attributes: Attributes): Span | undefined {
  const t = activeTracer();
  if (!t) return undefined;
  const parent = typeof incomingTraceparent === 'string' && incomingTraceparent.length <= 128 ? parseTraceParent(incomingTraceparent) : null;
  const ctx = parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true }) : ROOT_CONTEXT;
  return t.startSpan(name, { kind: SpanKind.SERVER, attributes }, ctx);
}

/** A client span under `parent` (a server span); undefined when tracing is off or there is no parent. */
export function startClientSpan(parent: unknown, name: string, attributes: Attributes): Span | undefined {
  const t = activeTracer();
  if (!t || !parent) return undefined;
  return t.startSpan(name, { kind: SpanKind.CLIENT, attributes }, trace.setSpan(ROOT_CONTEXT, parent as Span));
}

/** The `traceparent` that makes the receiver's spans children of `span` (W3C Trace Context §3.2). */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Ends a span with its HTTP status (OTel HTTP semantic conventions: 5xx is an error on both kinds). */
export function endSpanWithStatus(span: Span | undefined, status: number): void {
  if (!span) return;
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Ends a span whose request failed without a status (network error, timeout, abort). */
export function endSpanWithError(span: Span | undefined, errorType: string): void {
  if (!span) return;
  span.setAttribute('error.type', errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
