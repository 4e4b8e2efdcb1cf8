// `npm run bench [-- --quick] [-- --only a,b] [-- --out file.json]`: starts everything on 127.0.0.1,
// drives each variant with a separate autocannon process (interleaved A B A B, each after a
// warm-up), and writes a JSON report under bench/results/ plus Markdown tables on stdout.
// Sections for --only: the variant names, `codec`, `agent`, `coldstart`. `--cpu-prof <dir>` writes a
// V8 CPU profile of every proxy process into <dir> (open in Chrome DevTools); `--node-flags "<flags>"`
// starts every Node proxy process with those flags. Nothing here asserts timings.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { startLocalStack, type LocalStack } from '../e2e/servers/start-local-stack';
import { freePort } from '../e2e/harness/free-port';
import { startRedis, type RunningRedis } from '../e2e/harness/redis-server';
import { agentAvailable, timeLoginEnd } from './lib/agent-bench';
import { compileBenchServer, ensureBenchAppBuilt, ensureProductBuilt } from './lib/builds';
import { benchCodecs } from './lib/codec-bench';
import { measureCase, probeCase, requestFor, type CaseAuth, type CaseTarget } from './lib/measure';
import { startServer, treePeakRssMb, type RunningServer } from './lib/processes';
import { computeRatios, computeTargets, median, renderTables, type BenchReport, type CaseResult } from './lib/report';
import { loginForTokens, sealNextAuthSession, sealOurSession } from './lib/sessions';
import { BENCH_APPS, BENCH_SERVER_SOURCES, CASES, NGINX, POST_BYTES, ROOT, VARIANTS, oursEnv, serverSpec, upstreamSpec, type Variant } from './lib/variants';
import { runColdStarts } from './lib/cold-start';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argValue = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const cpuProfDir = argValue('--cpu-prof');
// `--node-flags "--max-semi-space-size=16"`: V8/Node flags for every Node proxy process (e.g. to price a GC knob).
const nodeFlags = argValue('--node-flags')?.split(' ').filter(Boolean) ?? [];
const only = argValue('--only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
const SECTIONS = [...VARIANTS, 'codec', 'agent', 'coldstart'];
for (const s of only ?? []) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}" (one of ${SECTIONS.join(', ')})`);
const selected = (s: string) => only === null || only.includes(s);
const settings = quick
  ? { connections: 20, warmupSeconds: 0.5, durationSeconds: 1, rounds: 2, postBytes: POST_BYTES }
  : { connections: 50, warmupSeconds: 2, durationSeconds: 5, rounds: 2, postBytes: POST_BYTES };
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const cases = CASES.filter((c) => selected(c.variant));
const variants = [...new Set(cases.map((c) => c.variant))];
const wantsProduct = variants.some((v) => v.startsWith('ours-')) || selected('agent') || selected('coldstart');

// 1. Builds (never timed), then the codec micro-benchmark while nothing else runs.
// Only the bench servers the selected variants run (bench/servers/<variant>.ts), and the upstream.
for (const entry of BENCH_SERVER_SOURCES) {
  if (entry === 'bench/upstream.ts' || variants.some((v) => entry === `bench/servers/${v}.ts`)) await compileBenchServer(entry);
}
for (const v of variants) if (BENCH_APPS[v]) ensureBenchAppBuilt(BENCH_APPS[v]!, log);
if (wantsProduct) { log('checking the product build ...'); ensureProductBuilt(); }
const codec = selected('codec') ? (log('codec micro-benchmark ...'), await benchCodecs(quick ? 100 : 1000)) : [];

// 2. Upstream, local identity server, and one server per variant.
const running: RunningServer[] = [];
let local: LocalStack | undefined;
let redis: RunningRedis | undefined;
const results = new Map<string, CaseResult>();
const report: Omit<BenchReport, 'targets' | 'ratios'> = {
  schema: 'next-token-handler/bench@1', startedAt: new Date().toISOString(), mode: quick ? 'quick' : 'full', only,
  machine: { nproc: availableParallelism(), cpuModel: cpuModel(), node: process.version, platform: `${process.platform} ${process.arch}` },
  settings, cases: [], codec, agent: { status: 'skipped', reason: 'not selected' }, coldStart: [],
};
try {
  const upstream = await startServer(upstreamSpec(await freePort()));
  running.push(upstream);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const ports = new Map<Variant, number>();
  for (const v of variants) ports.set(v, v === 'direct' ? upstream.port : await freePort());
  const oursPort = ports.get('ours-node') ?? await freePort();
  const needsIdp = variants.some((v) => v.startsWith('ours-') || v === 'peer-next-auth') || selected('agent') || selected('coldstart');
  if (needsIdp) {
    local = await startLocalStack({
      idpPort: 0, apiPort: 0, accessTokenTtl: 3600,
      bffOrigins: [oursPort, ports.get('ours-next'), ports.get('ours-node-store')].filter((p) => p !== undefined).map((p) => `http://localhost:${p}`),
    });
  }
  // ours-node-store: a real redis-server; its command counter shows what the load cost the store.
  redis = variants.includes('ours-node-store') ? await startRedis() : undefined;
  const cookieKeys = randomBytes(32).toString('hex');
  const nextAuthSecret = randomBytes(32).toString('hex');
  const servers = new Map<Variant, RunningServer>();
  for (const v of variants) {
    const spec = serverSpec(v, { port: ports.get(v)!, upstream: upstreamUrl, issuer: local?.issuer ?? '', cookieKeys, nextAuthSecret,
      storeUrl: redis?.url,
      nodeFlags: [...nodeFlags, ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(cpuProfDir)}`, `--cpu-prof-name=${v}.cpuprofile`] : [])] });
    if (!spec) continue;
    log(`starting ${v} ...`);
    const s = await startServer(spec);
    running.push(s);
    servers.set(v, s);
  }

  // 3. Sessions: one real login, sealed for each authenticated variant.
  const tokens = local && needsIdp ? await loginForTokens(local.issuer, `http://localhost:${oursPort}/`) : undefined;
  const targets = new Map<string, CaseTarget>();
  const oursSession = (port: number) => sealOurSession(oursEnv(port, local!.issuer, upstreamUrl, cookieKeys), tokens!);
  for (const c of cases) {
    const key = `${c.variant} ${c.method}`;
    const port = ports.get(c.variant)!;
    const auth = c.auth === 'ours' ? oursSession(port)
      : c.auth === 'next-auth' ? { cookie: await sealNextAuthSession(nextAuthSecret, tokens!) } : undefined;
    const target: CaseTarget = {
      proxy: servers.get(c.variant), upstream,
      load: requestFor(c, port, auth, settings),
      expectBearer: c.auth !== 'none',
    };
    if (c.variant !== 'direct' && !servers.has(c.variant)) {
      results.set(key, { variant: c.variant, method: c.method, status: 'skipped', reason: c.variant === 'nginx' ? `${NGINX} not installed` : 'not started' });
      log(`${key}: ${results.get(key)!.reason}`);
      continue;
    }
    const problem = await probeCase(target, c.method);
    if (problem) {
      results.set(key, { variant: c.variant, method: c.method, status: c.variant.startsWith('ours-') && /404/.test(problem) ? 'skipped' : 'error',
        reason: c.variant.startsWith('ours-') && /404/.test(problem) ? 'proxy not available' : problem });
      log(`${key}: ${results.get(key)!.reason}`);
    } else {
      targets.set(key, target);
    }
  }

  // 4. Interleaved rounds: every case once per round, each measured run after its own warm-up.
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [key, target] of targets) {
      log(`round ${round}/${settings.rounds}: ${key}`);
      const storeBefore = key.startsWith('ours-node-store') ? await storeCommands() : undefined;
      const measured = await measureCase(target, settings);
      if (storeBefore !== undefined) log(`${key}: ${measured.requests} requests, ${(await storeCommands()) - storeBefore} store commands besides connection-check PINGs`);
      const prev = results.get(key);
      const [variant, method] = key.split(' ') as [string, 'GET' | 'POST'];
      results.set(key, { variant, method, status: 'ok', rounds: [...(prev?.rounds ?? []), measured] });
    }
  }
  for (const [key, r] of results) {
    if (r.status !== 'ok' || !r.rounds) continue;
    const rounds = r.rounds;
    const requests = rounds.reduce((a, x) => a + x.requests, 0);
    const seconds = rounds.reduce((a, x) => a + x.durationSeconds, 0);
    const proxy = targets.get(key)!.proxy;
    r.requestsPerSecond = requests / seconds;
    r.latencyMs = { p50: median(rounds.map((x) => x.latencyMs.p50)), p99: Math.max(...rounds.map((x) => x.latencyMs.p99)), max: Math.max(...rounds.map((x) => x.latencyMs.max)) };
    r.errors = rounds.reduce((a, x) => a + x.errors + x.timeouts + x.non2xx, 0);
    r.proxyCpuUsPerRequest = proxy ? (rounds.reduce((a, x) => a + (x.proxyCpuSeconds ?? 0), 0) * 1e6) / requests : null;
    r.upstreamCpuUsPerRequest = (rounds.reduce((a, x) => a + x.upstreamCpuSeconds, 0) * 1e6) / requests;
    r.proxyPeakRssMb = proxy ? treePeakRssMb(proxy.pid) : null;
    r.coldStartMs = proxy?.coldStartMs ?? null;
  }
  report.cases = cases.map((c) => results.get(`${c.variant} ${c.method}`)!);

  // 5. OAuth Agent figures on the Node server entry.
  if (selected('agent')) {
    const node = servers.get('ours-node');
    report.agent = node && tokens ? await benchAgent(node, upstream, oursSession(node.port)) : { status: 'skipped', reason: 'needs the ours-node variant' };
  }

  // 6. Cold starts of fresh product servers, with nothing else under load.
  for (const s of running) await s.stop();
  running.length = 0;
  if (selected('coldstart')) report.coldStart = await runColdStarts(quick ? 1 : 3, local!.issuer, upstreamUrl, cookieKeys);
} finally {
  for (const s of running) await s.stop().catch(() => undefined);
  await local?.close();
  await redis?.stop();
}

/** Commands redis-server processed apart from PING (connection checks) and INFO (this probe): INFO commandstats. */
async function storeCommands(): Promise<number> {
  const stats = await redis!.command(['INFO', 'commandstats']);
  let calls = 0;
  for (const [, name, n] of stats.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) if (name !== 'ping' && name !== 'info') calls += Number(n);
  return calls;
}

const ratios = computeRatios(report.cases);
const full: BenchReport = { ...report, ratios, targets: computeTargets({ ...report, ratios }) };
const out = resolve(argValue('--out') ?? resolve(ROOT, 'bench/results', `bench-${full.startedAt.replace(/[:.]/g, '-')}.json`));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(full, null, 2)}\n`);
process.stdout.write(`${renderTables(full)}\n\nMachine: ${full.machine.nproc} × ${full.machine.cpuModel}, Node ${full.machine.node}\nResults: ${out}\n`);

function cpuModel(): string {
  try { return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown'; } catch { return 'unknown'; }
}

async function benchAgent(node: RunningServer, upstream: RunningServer, session: CaseAuth): Promise<BenchReport['agent']> {
  const origin = `http://localhost:${node.port}`;
  if (!(await agentAvailable(origin, node.port))) return { status: 'skipped', reason: 'OAuth Agent not available' };
  try {
    const measureGet = (path: string, cookie?: string) => measureCase({
      proxy: node, upstream, expectBearer: false,
      load: {
        url: `http://127.0.0.1:${node.port}${path}`, method: 'GET', connections: settings.connections, durationSeconds: 1,
        headers: { host: `localhost:${node.port}`, 'sec-fetch-site': 'same-origin', ...(cookie ? { cookie } : {}) },
      },
    }, settings);
    const perRequest = (m: { proxyCpuSeconds: number | null; requests: number }) => ((m.proxyCpuSeconds ?? 0) * 1e6) / m.requests;
    log('OAuth Agent: GET /oauth-agent/session under load ...');
    const m = await measureGet('/oauth-agent/session', session.cookie);
    log('OAuth Agent: GET /healthz under load (the route-handler floor) ...');
    const floor = await measureGet('/healthz');
    log('OAuth Agent: timing login/end ...');
    const md = await (await fetch(`${local!.issuer}/.well-known/openid-configuration`)).json() as { token_endpoint: string };
    const samples = await timeLoginEnd(origin, node.port, new URL(md.token_endpoint).pathname, quick ? 2 : 7);
    return {
      status: 'ok',
      sessionRequestsPerSecond: m.requestsPerSecond,
      sessionCpuUsPerRequest: perRequest(m),
      sessionErrors: m.errors + m.timeouts + m.non2xx,
      healthzRequestsPerSecond: floor.requestsPerSecond,
      healthzCpuUsPerRequest: perRequest(floor),
      loginEnd: { samples, medianOutsideMs: median(samples.map((x) => x.outsideMs)), medianTotalMs: median(samples.map((x) => x.totalMs)) },
    };
  } catch (err) {
    return { status: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
}
