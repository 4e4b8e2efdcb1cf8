// The SDK started as production starts it, exporting over OTLP/HTTP with the default protocol
// (protobuf) to a local receiver; W3C traceparent continuation on the real tracer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../e2e/harness/otlp-receiver';
import { flushTracing, startTracing } from './start-tracing';
import { endSpanWithStatus, startClientSpan, startServerSpan, traceparentOf, tracingEnabled } from './tracing';

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  startTracing({ endpoint: receiver.url, protocol: 'http/protobuf', serviceName: 'unit' });
});
afterAll(async () => { await receiver.close(); });

describe('tracing', () => {
  it('exports over OTLP/HTTP protobuf by default', async () => {
    expect(tracingEnabled()).toBe(true);
    const span = startServerSpan('GET /api', undefined, { 'http.route': '/api' });
    endSpanWithStatus(span, 200);
    await flushTracing();
    expect(receiver.contentTypes).toContain('application/x-protobuf');
  });

  it('continues a well-formed incoming traceparent; starts a new trace for a malformed or all-zero one', () => {
    const incoming = `00-${'4bf92f3577b34da6a3ce929d0e0e4736'}-00f067aa0ba902b7-01`;
    const continued = startServerSpan('x', incoming, {})!;
    expect(continued.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    for (const bad of [`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, '00-xyz-00f067aa0ba902b7-01', `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01${'0'.repeat(200)}`]) {
      expect(startServerSpan('x', bad, {})!.spanContext().traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    }
    const client = startClientSpan(continued, 'GET', {})!;
    expect(traceparentOf(client)).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${client.spanContext().spanId}-01`);
  });
});
