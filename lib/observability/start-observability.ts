// Starts what docs/contract.md §9 asks of a process, once: the metrics listener (METRICS_PORT) and the
// OpenTelemetry SDK (OTEL_EXPORTER_OTLP_ENDPOINT). Called by the Node server entry, and by
// instrumentation.ts under `next start` (where no Node server entry runs).
import type { Config } from '../config';
import { startMetricsListener } from './metrics-listener';
import { flushTracing, startTracing } from './start-tracing';

let started = false;

export async function startObservability(config: Config): Promise<void> {
  if (started) return;
  started = true;
  if (config.otel) startTracing(config.otel);
  if (config.metricsPort === undefined) return;
  try {
    await startMetricsListener(config.metricsPort);
  } catch (err) {
    // A port that cannot be listened on is a configuration mistake: stop, naming the variable.
    process.stderr.write(`next-token-handler: METRICS_PORT=${config.metricsPort} cannot be listened on (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
    process.exit(1);
  }
}

/** At shutdown: the spans still waiting for their batch are exported before the process exits. */
export function stopObservability(): Promise<void> {
  return flushTracing();
}
