// The bench's result document (bench/results/*.json), the ratios and targets derived from it, and
// the Markdown tables printed at the end (pasted as-is into README "Performance").
import type { CodecRow } from './codec-bench';
import type { LoadResult } from './load';

export interface CaseResult {
  variant: string;
  method: 'GET' | 'POST';
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  requestsPerSecond?: number;
  latencyMs?: { p50: number; p99: number; max: number };
  errors?: number;
  /** CPU time of the proxy's process tree over the measured runs ÷ requests (null for `direct`). */
  proxyCpuUsPerRequest?: number | null;
  upstreamCpuUsPerRequest?: number;
  proxyPeakRssMb?: number | null;
  coldStartMs?: number | null;
  rounds?: Array<LoadResult & { proxyCpuSeconds: number | null; upstreamCpuSeconds: number }>;
}

export interface Ratio { name: string; value: number | null; target: string; met: boolean | null; meaning: string }

export interface BenchReport {
  schema: 'next-token-handler/bench@1';
  startedAt: string;
  mode: 'quick' | 'full';
  only: string[] | null;
  machine: { nproc: number; cpuModel: string; node: string; platform: string };
  settings: { connections: number; warmupSeconds: number; durationSeconds: number; rounds: number; postBytes: number };
  cases: CaseResult[];
  ratios: Ratio[];
  codec: CodecRow[];
  agent: { status: 'ok' | 'skipped' | 'error'; reason?: string; sessionRequestsPerSecond?: number; sessionCpuUsPerRequest?: number;
    sessionErrors?: number;
    /** The floor for any Next route handler on the same server: GET /healthz. */
    healthzRequestsPerSecond?: number; healthzCpuUsPerRequest?: number;
    loginEnd?: { samples: Array<{ totalMs: number; tokenEndpointMs: number; outsideMs: number }>; medianOutsideMs: number; medianTotalMs: number } };
  coldStart: Array<{ server: string; status: 'ok' | 'skipped' | 'error'; reason?: string; samplesMs?: number[]; medianMs?: number }>;
  targets: Array<{ name: string; target: string; value: number | null; met: boolean | null }>;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function find(cases: CaseResult[], variant: string, method: 'GET' | 'POST'): CaseResult | undefined {
  const c = cases.find((x) => x.variant === variant && x.method === method);
  return c?.status === 'ok' ? c : undefined;
}

function ratio(name: string, a: number | undefined | null, b: number | undefined | null, target: string, ok: (v: number) => boolean | null, meaning: string): Ratio {
  const value = a != null && b != null && b > 0 ? a / b : null;
  return { name, value, target, met: value === null ? null : ok(value), meaning };
}

export function computeRatios(cases: CaseResult[]): Ratio[] {
  const cpu = (v: string, m: 'GET' | 'POST') => find(cases, v, m)?.proxyCpuUsPerRequest;
  const rps = (v: string, m: 'GET' | 'POST') => find(cases, v, m)?.requestsPerSecond;
  const p99 = (v: string, m: 'GET' | 'POST') => find(cases, v, m)?.latencyMs?.p99;
  const out: Ratio[] = [];
  for (const m of ['GET', 'POST'] as const) {
    out.push(ratio(`ours-node CPU/req ÷ bare-hpm (${m})`, cpu('ours-node', m), cpu('bare-hpm', m), '≤ 1.0', (v) => v <= 1.0,
      'the whole product path (session decrypt, origin/CSRF policy, header hygiene, Next in the process) against a bare http-proxy-middleware proxy with no auth'));
    out.push(ratio(`ours-node CPU/req ÷ bare-undici (${m})`, cpu('ours-node', m), cpu('bare-undici', m), '≤ 1.3 (stretch)', (v) => v <= 1.3,
      'what our policy adds to the same undici Pool forwarding with no auth'));
    out.push(ratio(`ours-node CPU/req ÷ nginx (${m})`, cpu('ours-node', m), cpu('nginx', m), '(report)', () => null,
      'against the floor: nginx keep-alive proxy_pass, no auth'));
    out.push(ratio(`ours-node p99 ÷ bare-hpm p99 (${m})`, p99('ours-node', m), p99('bare-hpm', m), '≤ 1.5', (v) => v <= 1.5,
      'the latency tail (GC pauses, event-loop stalls) against the bare proxy'));
    out.push(ratio(`ours-next CPU/req ÷ bare-next-fetch (${m})`, cpu('ours-next', m), cpu('bare-next-fetch', m), '≤ 1.05', (v) => v <= 1.05,
      'what our policy adds to a proxy.ts that forwards with fetch'));
  }
  for (const m of ['GET', 'POST'] as const) {
    out.push(ratio(`ours-node CPU/req ÷ ours-node-without-next (${m})`, cpu('ours-node', m), cpu('ours-node-without-next', m), '(report)', () => null,
      'what having Next prepared in the same process costs the /api/* path (async hooks, a larger heap to collect)'));
    out.push(ratio(`ours-node-store CPU/req ÷ ours-node (${m})`, cpu('ours-node-store', m), cpu('ours-node', m), '(report)', () => null,
      'what a configured session store costs a request whose token is not due (docs/contract.md §6: no store round trip)'));
  }
  out.push(ratio('ours-next CPU/req ÷ bare-next-rewrite (GET)', cpu('ours-next', 'GET'), cpu('bare-next-rewrite', 'GET'), '(report)', () => null,
    'our proxy.ts against the cheapest thing proxy.ts can do (a rewrite, which cannot meet the contract)'));
  out.push(ratio('ours-node req/s ÷ ours-next (GET)', rps('ours-node', 'GET'), rps('ours-next', 'GET'), '≥ 6', (v) => v >= 6,
    'how much faster the Node server entry is than the proxy.ts transport, same policy'));
  out.push(ratio('ours-node req/s ÷ peer-next-auth (GET)', rps('ours-node', 'GET'), rps('peer-next-auth', 'GET'), '≥ 7', (v) => v >= 7,
    'the Node server entry against next-auth getToken + rewrite in proxy.ts'));
  return out;
}

export function computeTargets(report: Omit<BenchReport, 'targets'>): BenchReport['targets'] {
  const t: BenchReport['targets'] = report.ratios.filter((r) => r.target !== '(report)')
    .map((r) => ({ name: r.name, target: r.target, value: r.value, met: r.met }));
  const dec = report.codec.find((r) => r.library.startsWith('ours') && r.tokenBytes === 1024)?.openUs ?? null;
  t.push({ name: 'our cookie decrypt, 1 KB (µs)', target: '≤ 10', value: dec, met: dec === null ? null : dec <= 10 });
  for (const v of ['ours-node', 'ours-next']) {
    const rss = report.cases.filter((c) => c.variant === v && c.status === 'ok').map((c) => c.proxyPeakRssMb ?? 0);
    const value = rss.length ? Math.max(...rss) : null;
    t.push({ name: `${v} peak RSS under load (MB)`, target: '≤ 300', value, met: value === null ? null : value <= 300 });
  }
  for (const c of report.coldStart) {
    const value = c.medianMs === undefined ? null : c.medianMs / 1000;
    t.push({ name: `cold start, ${c.server} (s)`, target: '≤ 2', value, met: value === null ? null : value <= 2 });
  }
  return t;
}

const f = (v: number | null | undefined, digits = 0) => (v == null || Number.isNaN(v) ? '–' : v.toFixed(digits));

export function renderTables(r: BenchReport): string {
  const lines: string[] = [];
  lines.push('| variant | method | req/s | proxy CPU µs/req | p99 ms | p50 ms | max ms | errors | upstream CPU µs/req | proxy peak RSS MB | cold start ms |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of r.cases) {
    if (c.status !== 'ok') {
      lines.push(`| ${c.variant} | ${c.method} | ${c.status}: ${c.reason ?? ''} | | | | | | | | |`);
      continue;
    }
    lines.push(`| ${c.variant} | ${c.method} | ${f(c.requestsPerSecond)} | ${f(c.proxyCpuUsPerRequest)} | ${f(c.latencyMs?.p99, 1)} | ${f(c.latencyMs?.p50, 1)} | ${f(c.latencyMs?.max, 1)} | ${c.errors} | ${f(c.upstreamCpuUsPerRequest)} | ${f(c.proxyPeakRssMb)} | ${f(c.coldStartMs)} |`);
  }
  lines.push('', '| ratio | value | target | met |', '|---|---:|---|---|');
  for (const x of r.ratios) lines.push(`| ${x.name} | ${f(x.value, 2)} | ${x.target} | ${x.met === null ? '–' : x.met ? 'yes' : 'no'} |`);
  if (r.codec.length) {
    lines.push('', '| cookie codec | token | seal µs/op | open µs/op |', '|---|---:|---:|---:|');
    for (const c of r.codec) lines.push(`| ${c.library} | ${c.tokenBytes / 1024} KB | ${f(c.sealUs, 1)} | ${f(c.openUs, 1)} |`);
  }
  lines.push('', '| OAuth Agent | value |', '|---|---|');
  if (r.agent.status !== 'ok') lines.push(`| all | ${r.agent.status}: ${r.agent.reason ?? ''} |`);
  else {
    lines.push(`| GET /oauth-agent/session req/s (Node entry) | ${f(r.agent.sessionRequestsPerSecond)} |`);
    lines.push(`| GET /oauth-agent/session CPU µs/req | ${f(r.agent.sessionCpuUsPerRequest)} |`);
    lines.push(`| GET /oauth-agent/session errors | ${r.agent.sessionErrors ?? '–'} |`);
    lines.push(`| floor: GET /healthz (a bare Next route handler) req/s | ${f(r.agent.healthzRequestsPerSecond)} |`);
    lines.push(`| floor: GET /healthz CPU µs/req | ${f(r.agent.healthzCpuUsPerRequest)} |`);
    if (r.agent.loginEnd) {
      lines.push(`| login/end total, median ms | ${f(r.agent.loginEnd.medianTotalMs, 1)} |`);
      lines.push(`| login/end outside the token endpoint, median ms | ${f(r.agent.loginEnd.medianOutsideMs, 1)} |`);
    }
  }
  lines.push('', '| cold start (spawn → first 200 on /healthz) | median s | samples s |', '|---|---:|---|');
  for (const c of r.coldStart) {
    lines.push(c.status === 'ok'
      ? `| ${c.server} | ${f((c.medianMs ?? 0) / 1000, 2)} | ${c.samplesMs!.map((m) => (m / 1000).toFixed(2)).join(', ')} |`
      : `| ${c.server} | ${c.status}: ${c.reason ?? ''} | |`);
  }
  lines.push('', '| target | value | met |', '|---|---:|---|');
  for (const t of r.targets) lines.push(`| ${t.name} ${t.target} | ${f(t.value, 2)} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}
