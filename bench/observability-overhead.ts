// `npx tsx bench/observability-overhead.ts [--transport node|next] [--seconds 5] [--rounds 3]`:
// the CPU price of docs/contract.md §9 per proxied request. Starts the built BFF three times — observability
// off, METRICS_PORT on, METRICS_PORT + OTLP traces on (to a local receiver) — drives each with the
// same authenticated GET /api/* load (interleaved A B C A B C, each after a warm-up), and prints the
// BFF's CPU µs per request and the overhead against "off". Prints numbers, asserts nothing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../e2e/harness/free-port';
import { loginThroughBff } from '../e2e/harness/login-through-bff';
import { startOtlpReceiver } from '../e2e/harness/otlp-receiver';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../e2e/harness/start-bff';
import { startLocalStack } from '../e2e/servers/start-local-stack';
import { runLoad } from './lib/load';
import { treeCpuSeconds } from './lib/processes';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : dflt; };
const transport = arg('--transport', 'node') as Transport;
const seconds = Number(arg('--seconds', '5'));
const rounds = Number(arg('--rounds', '3'));
const connections = Number(arg('--connections', '20'));

const receiver = await startOtlpReceiver();
// As cheap an upstream as Node allows (like bench/upstream.ts), so the load is the proxy's.
const upstream = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}');
});
upstream.keepAliveTimeout = 65_000;
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
const variants = ['off', 'metrics', 'metrics+traces'] as const;
const ports = await Promise.all(variants.map(() => freePort()));
const local = await startLocalStack({ idpPort: 0, apiPort: 0, accessTokenTtl: 3600, bffOrigins: ports.map((p) => `http://localhost:${p}`) });
const cookieKeys = randomCookieKey();
const bffs: RunningBff[] = [];
try {
  for (const [i, variant] of variants.entries()) {
    const env: Record<string, string> = { LOG_LEVEL: 'warn' };
    if (variant !== 'off') env.METRICS_PORT = String(await freePort());
    if (variant === 'metrics+traces') Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'bench' });
    bffs.push(await startBff({ transport, port: ports[i]!, issuer: local.issuer, apiRoutes: `/api=${upstreamUrl}`, cookieKeys, env, keepLogs: false }));
  }
  const sessions = await Promise.all(bffs.map((b) => loginThroughBff(b, 'bench')));
  const load = (i: number, durationSeconds: number) => runLoad({
    url: `http://127.0.0.1:${ports[i]}/api/items`, method: 'GET', connections, durationSeconds,
    headers: { host: `localhost:${ports[i]}`, 'sec-fetch-site': 'same-origin', accept: 'application/json', cookie: sessions[i]!.cookies },
  });
  const samples: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  const rps: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [i, variant] of variants.entries()) {
      await load(i, 1); // warm-up
      const cpu0 = treeCpuSeconds(bffs[i]!.process.pid!);
      const result = await load(i, seconds);
      const cpu = treeCpuSeconds(bffs[i]!.process.pid!) - cpu0;
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${variant}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      samples[variant]!.push((cpu / result.requests) * 1e6);
      rps[variant]!.push(result.requestsPerSecond);
      process.stderr.write(`[bench] round ${round} ${variant}: ${result.requests} requests, ${((cpu / result.requests) * 1e6).toFixed(1)} µs CPU/request\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const off = median(samples.off!);
  console.log(`\nObservability overhead, ${transport} transport, ${connections} connections, ${rounds} × ${seconds} s per variant (median):\n`);
  console.log('| variant | req/s | BFF CPU µs per request | vs off |');
  console.log('|---|---|---|---|');
  for (const v of variants) {
    const m = median(samples[v]!);
    console.log(`| ${v} | ${Math.round(median(rps[v]!))} | ${m.toFixed(1)} | ${v === 'off' ? '—' : `${(((m - off) / off) * 100).toFixed(1)} %`} |`);
  }
  console.log(`\nspans received by the local OTLP receiver: ${receiver.contentTypes.length} export requests`);
} finally {
  await Promise.all(bffs.map((b) => b.stop()));
  await local.close();
  await receiver.close();
  upstream.close();
}
