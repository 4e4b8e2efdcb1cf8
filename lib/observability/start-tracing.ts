// Starts the OpenTelemetry SDK once per process when OTEL_EXPORTER_OTLP_ENDPOINT is set: a tracer
// provider with the service name, a batching processor and an OTLP/HTTP exporter (protobuf by
// default, JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json). The only module that imports the SDK,
// resources and exporter packages. Versions pinned for Node 20 (README "Operations").
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { OtelConfig } from '../config';
import { installTracerProvider, TRACER_NAME } from './tracing';

/**
 * Exports our spans only. With a global provider installed, Next.js creates spans of its own whose
 * attributes copy the request target (`http.target: /?code=…&state=…` on the SPA's redirect page),
 * so they are dropped here rather than trusted (docs/contract.md §9: no code or state in any attribute).
 */
class OwnSpansOnly implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.instrumentationScope.name === TRACER_NAME) this.next.onEnd(span);
  }
  forceFlush(): Promise<void> { return this.next.forceFlush(); }
  shutdown(): Promise<void> { return this.next.shutdown(); }
}

let provider: BasicTracerProvider | undefined;

export function startTracing(otel: OtelConfig): void {
  if (provider) return;
  // OTLP exporter specification: the signal path /v1/traces is appended to the base endpoint.
  const url = `${otel.endpoint}/v1/traces`;
  const exporter = otel.protocol === 'http/json' ? new OtlpJsonExporter({ url }) : new OtlpProtobufExporter({ url });
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': otel.serviceName }),
    spanProcessors: [new OwnSpansOnly(new BatchSpanProcessor(exporter))],
  });
  installTracerProvider(provider);
}

/** Sends the spans still queued (at shutdown). */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush().catch(() => {});
}
