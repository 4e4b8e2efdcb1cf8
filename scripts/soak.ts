// Bounded soak of the built BFF (Node transport): several logged-in sessions call /api/* at a
// steady concurrency for a fixed time with a short access-token lifetime, so refreshes happen
// throughout. Reports requests, non-2xx answers, refresh grants seen at the identity server and
// the BFF's RSS (start after warm-up / peak / end); exits 1 on any non-2xx or RSS growth beyond
// the bound. `npm run soak` (60 s); SOAK_SECONDS, SOAK_CONCURRENCY, SOAK_SESSIONS, SOAK_TTL,
// SOAK_RSS_GROWTH_MB override the defaults. `runSoak()` is also the short run in the security suite.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { applySetCookies } from '../e2e/harness/browser-cookies';
import { loginThroughBff } from '../e2e/harness/login-through-bff';
import { startStack } from '../e2e/harness/stack';
import type { RunningBff } from '../e2e/harness/start-bff';

export interface SoakOptions {
  seconds: number;
  concurrency: number;
  sessions: number;
  /** Access-token lifetime at the identity server (seconds). */
  accessTokenTtl: number;
  /** Allowed RSS growth of the BFF from its warmed-up start to the end (MB). */
  rssGrowthMb: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  seconds: number;
  concurrency: number;
  sessions: number;
  requests: number;
  nonOk: number;
  /** Requests and non-2xx answers of the warm-up before the measured run. */
  warmup: { requests: number; nonOk: number };
  /** Status → count, for the non-2xx answers, warm-up included (0 = network error). */
  nonOkByStatus: Record<string, number>;
  refreshGrants: number;
  rssMb: { start: number; peak: number; end: number };
  requestsPerSecond: number;
  passed: boolean;
  failures: string[];
}

interface SoakSession { cookies: string; csrf: string; expiresAt: number; refreshing?: Promise<void> }

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const headersFor = (bff: RunningBff, s: SoakSession, extra: Record<string, string> = {}) =>
  ({ origin: bff.origin, 'sec-fetch-site': 'same-origin', cookie: s.cookies, ...extra });

/** Refreshes the way the SPA does (POST /oauth-agent/refresh), once per session at a time. */
async function refresh(bff: RunningBff, s: SoakSession): Promise<void> {
  s.refreshing ??= (async () => {
    const res = await fetch(`${bff.origin}/oauth-agent/refresh`, { method: 'POST', headers: headersFor(bff, s, { 'x-th-csrf': s.csrf }) });
    if (res.status !== 204) throw new Error(`refresh answered ${res.status}`);
    s.cookies = applySetCookies(s.cookies, res.headers.getSetCookie());
    const session = await (await fetch(`${bff.origin}/oauth-agent/session`, { headers: headersFor(bff, s) })).json() as { accessTokenExpiresIn: number };
    s.expiresAt = Date.now() + session.accessTokenExpiresIn * 1000;
  })().finally(() => { s.refreshing = undefined; });
  return s.refreshing;
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const say = opts.log ?? (() => {});
  const stack = await startStack({ transports: ['node'], accessTokenTtl: opts.accessTokenTtl, bffEnv: { LOG_LEVEL: 'warn' } });
  try {
    const bff = stack.bff('node');
    const sessions: SoakSession[] = [];
    for (let i = 0; i < opts.sessions; i++) {
      const login = await loginThroughBff(bff, `soak-user-${i}`);
      sessions.push({ cookies: login.cookies, csrf: login.csrf, expiresAt: Date.now() + (login.body.accessTokenExpiresIn ?? 0) * 1000 });
    }
    const counts = { requests: 0, nonOk: 0 };
    const nonOkByStatus: Record<string, number> = {};

    async function oneRequest(n: number): Promise<void> {
      const s = sessions[n % sessions.length]!;
      // The SPA refreshes shortly before expiry; a proxy that refreshes itself leaves nothing to do here.
      if (s.refreshing || s.expiresAt - Date.now() < 2000) await refresh(bff, s).catch(() => {});
      const post = n % 5 === 0;
      let status = 0;
      try {
        const res = await fetch(`${bff.origin}/api/${post ? 'echo' : 'whoami'}`, {
          method: post ? 'POST' : 'GET', body: post ? JSON.stringify({ n }) : undefined,
          headers: headersFor(bff, s, post ? { 'x-th-csrf': s.csrf, 'content-type': 'application/json' } : {}),
        });
        status = res.status;
        s.cookies = applySetCookies(s.cookies, res.headers.getSetCookie());
        await res.arrayBuffer();
      } catch { /* counted as status 0 */ }
      counts.requests += 1;
      if (status < 200 || status >= 300) {
        counts.nonOk += 1;
        nonOkByStatus[status] = (nonOkByStatus[status] ?? 0) + 1;
      }
    }

    const loop = async (until: number, worker: number) => {
      for (let n = worker; Date.now() < until; n += opts.concurrency) await oneRequest(n);
    };
    // Warm-up (JIT, caches, keep-alive pools) before the RSS baseline.
    const warmSeconds = Math.min(3, Math.max(1, opts.seconds / 10));
    await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => loop(Date.now() + warmSeconds * 1000, w)));
    const warmup = { ...counts };
    Object.assign(counts, { requests: 0, nonOk: 0 });
    await fetch(`${stack.local.issuer}/__test/events`, { method: 'DELETE' });

    const pid = bff.process.pid!;
    const rss = { start: rssMb(pid), peak: 0, end: 0 };
    rss.peak = rss.start;
    const sampler = setInterval(() => { rss.peak = Math.max(rss.peak, rssMb(pid)); }, 250);
    const started = Date.now();
    const ticker = setInterval(() => say(`  ${Math.round((Date.now() - started) / 1000)} s: ${counts.requests} requests, ${counts.nonOk} non-2xx, RSS ${rssMb(pid)} MB`), 10_000);
    await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => loop(started + opts.seconds * 1000, w)));
    const elapsed = (Date.now() - started) / 1000;
    clearInterval(sampler);
    clearInterval(ticker);
    rss.end = rssMb(pid);
    rss.peak = Math.max(rss.peak, rss.end);

    const events = await (await fetch(`${stack.local.issuer}/__test/events`)).json() as Array<{ type: string; grantType?: string }>;
    const refreshGrants = events.filter((e) => e.type === 'grant.success' && e.grantType === 'refresh_token').length;
    const failures: string[] = [];
    if (counts.nonOk + warmup.nonOk > 0) failures.push(`${counts.nonOk + warmup.nonOk} non-2xx answers (${warmup.nonOk} in warm-up) ${JSON.stringify(nonOkByStatus)}`);
    if (rss.end - rss.start > opts.rssGrowthMb) failures.push(`RSS grew ${rss.end - rss.start} MB (bound ${opts.rssGrowthMb} MB)`);
    if (counts.requests === 0) failures.push('no request completed');
    return {
      seconds: opts.seconds, concurrency: opts.concurrency, sessions: opts.sessions,
      requests: counts.requests, nonOk: counts.nonOk, warmup, nonOkByStatus, refreshGrants, rssMb: rss,
      requestsPerSecond: Math.round(counts.requests / elapsed), passed: failures.length === 0, failures,
    };
  } finally {
    await stack.close();
  }
}

const envNumber = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isFinite(v) && v > 0 ? v : fallback;
};

async function main() {
  const opts: SoakOptions = {
    seconds: envNumber('SOAK_SECONDS', 60),
    concurrency: envNumber('SOAK_CONCURRENCY', 20),
    sessions: envNumber('SOAK_SESSIONS', 5),
    accessTokenTtl: envNumber('SOAK_TTL', 10),
    rssGrowthMb: envNumber('SOAK_RSS_GROWTH_MB', 100),
    log: (line) => console.log(line),
  };
  console.log(`soak: ${opts.seconds} s, concurrency ${opts.concurrency}, ${opts.sessions} sessions, access tokens live ${opts.accessTokenTtl} s, Node transport`);
  const report = await runSoak(opts);
  console.log(JSON.stringify(report, null, 2));
  console.log(report.passed ? 'soak: PASS' : `soak: FAIL — ${report.failures.join('; ')}`);
  process.exit(report.passed ? 0 : 1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
