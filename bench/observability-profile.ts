// `npx tsx bench/observability-profile.ts [--seconds 6]`: the share of the Node transport's CPU spent
// in docs/contract.md §9's work, from V8 CPU profiles of the built BFF under the same authenticated
// GET /api/* load, with observability off, METRICS_PORT on, and METRICS_PORT + OTLP traces on.
// A share of the process's own busy samples is robust on a shared machine, where req/s and CPU per
// request are dominated by other load. Prints numbers, asserts nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../e2e/harness/free-port';
import { loginThroughBff } from '../e2e/harness/login-through-bff';
import { startOtlpReceiver } from '../e2e/harness/otlp-receiver';
import { randomCookieKey, type RunningBff } from '../e2e/harness/start-bff';
import { startLocalStack } from '../e2e/servers/start-local-stack';
import { runLoad } from './lib/load';
import { startServer } from './lib/processes';
import { nodeEntrySpec, oursEnv } from './lib/variants';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] || 6);
const MODES = ['off', 'metrics', 'metrics+traces'] as const;
// Our per-request entry points (lib/observability, bundled into dist/server.mjs).
const OURS = new Set(['assignRequestId', 'requestIdFor', 'observeProxyRequest', 'startUpstreamCall', 'endUpstreamCall', 'countRequest', 'countProxyRequest',
  'observeUpstreamSeconds', 'proxyRouteLabel', 'startServerSpan', 'startClientSpan', 'traceparentOf', 'endSpanWithStatus', 'endSpanWithError', 'currentRequestContext']);
const LIBRARIES = /@opentelemetry|prom-client|protobufjs/;

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; endTime: number }

/** Busy samples of the last `windowUs` (the load), and the share with our code or a telemetry library on the stack. */
function shares(profile: Profile, windowUs: number): { busyMs: number; ours: number; background: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let t = profile.endTime, busy = 0, ours = 0, background = 0;
  for (let i = profile.samples.length - 1; i >= 0 && profile.endTime - t <= windowUs; i--) {
    const dt = profile.timeDeltas[i]!;
    t -= dt;
    const leaf = byId.get(profile.samples[i]!)!.callFrame.functionName;
    if (leaf === '(idle)' || leaf === '(program)') continue;
    busy += dt;
    let inOurs = false, inLibrary = false;
    for (let cur: number | undefined = profile.samples[i]; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (OURS.has(frame.functionName) && frame.url.endsWith('server.mjs')) inOurs = true;
      if (LIBRARIES.test(frame.url)) inLibrary = true;
    }
    if (inOurs || inLibrary) ours += dt;
    if (inLibrary && !inOurs) background += dt; // batch export, scrape, GC observers
  }
  return { busyMs: busy / 1000, ours: ours / busy, background: background / busy };
}

const dir = mkdtempSync(join(tmpdir(), 'nth-obs-prof-'));
const receiver = await startOtlpReceiver();
const upstream = createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}'); });
upstream.keepAliveTimeout = 65_000;
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
const ports = await Promise.all(MODES.map(() => freePort()));
const local = await startLocalStack({ idpPort: 0, apiPort: 0, accessTokenTtl: 3600, bffOrigins: ports.map((p) => `http://localhost:${p}`) });
const rows: string[] = [];
try {
  for (const [i, mode] of MODES.entries()) {
    const port = ports[i]!;
    const cookieKeys = randomCookieKey();
    const env = { ...oursEnv(port, local.issuer, upstreamUrl, cookieKeys) };
    if (mode !== 'off') env.METRICS_PORT = String(await freePort());
    if (mode === 'metrics+traces') env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const spec = nodeEntrySpec(mode, port, env);
    const server = await startServer({ ...spec, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${i}.cpuprofile`, ...spec.args] });
    const session = await loginThroughBff({ origin: `http://localhost:${port}` } as RunningBff, 'bench');
    const load = await runLoad({
      url: `http://127.0.0.1:${port}/api/items`, method: 'GET', connections: 20, durationSeconds: seconds,
      headers: { host: `localhost:${port}`, 'sec-fetch-site': 'same-origin', accept: 'application/json', cookie: session.cookies },
    });
    await server.stop(); // the profile is written at exit
    const s = shares(JSON.parse(readFileSync(join(dir, `${i}.cpuprofile`), 'utf8')) as Profile, (seconds - 0.5) * 1e6);
    rows.push(`| ${mode} | ${load.requests} | ${(s.ours * 100).toFixed(1)} % | ${(s.background * 100).toFixed(1)} % |`);
    process.stderr.write(`[bench] ${mode}: ${load.requests} requests, ${load.non2xx} non-2xx\n`);
  }
  console.log(`\nShare of the Node transport's busy CPU samples in observability code, ${seconds} s of GET /api/* at 20 connections:\n`);
  console.log('| mode | requests | observability share | of which background (export, scrape) |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  await local.close();
  await receiver.close();
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
}
