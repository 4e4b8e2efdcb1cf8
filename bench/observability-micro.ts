// `npx tsx bench/observability-micro.ts`: the in-process cost of docs/contract.md §9's per-request work on
// the Node transport, in µs per request — exactly the calls server/main.ts and server/api-proxy.ts
// make (request id, context, count, upstream latency, spans) on real node:http objects, with
// observability off, metrics on, and metrics + traces on (exported to a local OTLP receiver).
// Stable on a busy machine where load tests are not; compare with the transport's ~100 µs/request.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { startOtlpReceiver } from '../e2e/harness/otlp-receiver';
import { loadConfig } from '../lib/config';
import { enableMetrics } from '../lib/observability/metrics';
import { assignRequestId, endUpstreamCall, observeProxyRequest, startUpstreamCall } from '../lib/observability/node-proxy-observation';
import { runInRequestContext } from '../lib/observability/request-context';
import { flushTracing, startTracing } from '../lib/observability/start-tracing';

const N = Number(process.argv[2] ?? 20_000);
const config = loadConfig({
  PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: 'a'.repeat(64), API_ROUTES: '/api/orders=http://127.0.0.1:1/v1,/api=http://127.0.0.1:1',
});

function oneRequest(): void {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/api/orders/42?x=1';
  req.headers = { host: 'localhost:3000', 'x-request-id': 'bench-request-1', cookie: 'x' };
  const res = new ServerResponse(req);
  const id = assignRequestId(req, res);
  runInRequestContext(observeProxyRequest(req, res, config.apiRoutes, id), () => {
    const headers: Record<string, string> = { ...req.headers } as Record<string, string>;
    startUpstreamCall(res, headers, 'GET');
    endUpstreamCall(res, 200);
    res.statusCode = 200;
  });
  res.emit('close');
}

const base = () => { const req = new IncomingMessage(new Socket()); req.headers = { host: 'h' }; const res = new ServerResponse(req); res.emit('close'); };
const yieldToTimers = () => new Promise((r) => setImmediate(r)); // lets the batch exporter run, as between real requests

/** µs per call of `fn`, yielding every 200 calls; the minimum of 5 runs (a busy machine only adds time). */
async function timePerCall(fn: () => void): Promise<number> {
  let best = Infinity;
  for (let run = 0; run < 5; run++) {
    const t = performance.now();
    for (let i = 0; i < N; i++) { fn(); if (i % 200 === 199) await yieldToTimers(); }
    best = Math.min(best, ((performance.now() - t) * 1000) / N);
  }
  return best;
}

/** µs per request of the observability calls: the loop minus the same loop's node:http object creation alone. */
async function measure(label: string): Promise<void> {
  for (let i = 0; i < 2000; i++) { oneRequest(); base(); }
  const baseUs = await timePerCall(base);
  const us = await timePerCall(oneRequest);
  console.log(`| ${label} | ${(us - baseUs).toFixed(2)} | ${baseUs.toFixed(2)} |`);
}

console.log(`\nPer-request observability work on the Node transport, ${N} requests (µs, node:http object creation subtracted):\n`);
console.log('| mode | µs per request | (baseline loop µs) |');
console.log('|---|---|---|');
await measure('off (request id only)');
enableMetrics();
await measure('metrics');
const receiver = await startOtlpReceiver();
startTracing({ endpoint: receiver.url, protocol: 'http/protobuf', serviceName: 'micro' });
await measure('metrics + traces (2 spans, batched protobuf export)');
await flushTracing();
console.log(`\nexport requests received: ${receiver.contentTypes.length}`);
await receiver.close();
