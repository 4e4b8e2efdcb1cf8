// The load generator, run by the bench as its own process so that it never shares an event loop
// (or a CPU account) with the servers it measures. Input: one JSON argument; output: one JSON line.
//   { url, method, headers, body, connections, durationSeconds }
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2] ?? '{}');

const result = await autocannon({
  url: spec.url,
  method: spec.method ?? 'GET',
  headers: spec.headers ?? {},
  body: spec.body,
  connections: spec.connections ?? 50,
  duration: spec.durationSeconds ?? 5,
  timeout: 10,
});

process.stdout.write(`${JSON.stringify({
  requests: result.requests.total,
  durationSeconds: result.duration,
  requestsPerSecond: result.requests.total / result.duration,
  latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
})}\n`);
