// Prometheus metrics (docs/contract.md §9), the only module that imports prom-client. Names and labels are
// the contract's; a label value is always one of a fixed set (agent endpoint name, configured route
// prefix, status code, result), never a raw path, user, token or cookie, so cardinality is bounded.
// Without METRICS_PORT nothing is created and every count* call is a null check.
import { Counter, Histogram, collectDefaultMetrics, register, type Metric } from 'prom-client';
import { getConfig } from '../config';

export type RefreshResult = 'success' | 'coalesced' | 'successor' | 'invalid_grant' | 'error';
export type LoginResult = 'success' | 'failure';
export type BackchannelLogoutResult = 'accepted' | 'rejected';
export type Component = 'agent' | 'proxy';

interface Instruments {
  requests: Counter<'component' | 'route' | 'status'>;
  upstreamSeconds: Histogram<'route'>;
  refreshes: Counter<'result'>;
  logins: Counter<'result'>;
  storeErrors: Counter<string>;
  backchannelLogouts: Counter<'result'>;
  /** Label children by key: prom-client hashes the label set on every call otherwise. */
  requestChildren: Map<string, Counter.Internal>;
  upstreamChildren: Map<string, Histogram.Internal<'route'>>;
}

/** undefined until first use, then the instruments or null (metrics off). */
let instruments: Instruments | null | undefined;

// prom-client's default registry is per process; a second copy of this module (Next's bundle next to
// dist/server.mjs) finds the metrics already registered and records into the same ones.
function reuse<T extends Metric>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

function createInstruments(): Instruments {
  return {
    requests: reuse('nth_requests_total', () => new Counter({
      name: 'nth_requests_total', help: 'Requests answered, by component (agent, proxy), route and HTTP status',
      labelNames: ['component', 'route', 'status'] as const,
    })),
    upstreamSeconds: reuse('nth_upstream_duration_seconds', () => new Histogram({
      name: 'nth_upstream_duration_seconds', help: 'Time from sending a request upstream to its response headers, by proxy route',
      labelNames: ['route'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    })),
    refreshes: reuse('nth_refresh_total', () => new Counter({
      name: 'nth_refresh_total', help: 'Token refresh outcomes (success, coalesced, successor, invalid_grant, error)', labelNames: ['result'] as const,
    })),
    logins: reuse('nth_logins_total', () => new Counter({
      name: 'nth_logins_total', help: 'Finished logins (success, failure)', labelNames: ['result'] as const,
    })),
    storeErrors: reuse('nth_store_errors_total', () => new Counter({
      name: 'nth_store_errors_total', help: 'Session store commands that failed (unreachable, timed out, refused)',
    })),
    backchannelLogouts: reuse('nth_backchannel_logouts_total', () => new Counter({
      name: 'nth_backchannel_logouts_total', help: 'Back-channel logout requests (accepted, rejected)', labelNames: ['result'] as const,
    })),
    requestChildren: new Map(),
    upstreamChildren: new Map(),
  };
}

function metricsWanted(): boolean {
  try { return getConfig().metricsPort !== undefined; } catch { return false; } // a bad config stops the server at start
}

function active(): Instruments | null {
  if (instruments === undefined) instruments = metricsWanted() ? createInstruments() : null;
  return instruments;
}

/** Creates the instruments now (start-up, tests) instead of on first use. */
export function enableMetrics(): void {
  instruments ??= createInstruments();
}

export const metricsEnabled = (): boolean => active() !== null;

export function countRequest(component: Component, route: string, status: number): void {
  const m = active();
  if (!m) return;
  const key = `${component} ${route} ${status}`;
  let child = m.requestChildren.get(key);
  if (!child) m.requestChildren.set(key, child = m.requests.labels(component, route, String(status)));
  child.inc();
}

/** An OAuth Agent response; `route` is the endpoint name (login_start, session, …). */
export const countAgentRequest = (route: string, status: number): void => countRequest('agent', route, status);

/** An OAuth Proxy response; `route` is the configured route prefix (or `none` when no route matched). */
export const countProxyRequest = (route: string, status: number): void => countRequest('proxy', route, status);

/** Upstream latency to response headers, in seconds. */
export function observeUpstreamSeconds(route: string, seconds: number): void {
  const m = active();
  if (!m) return;
  let child = m.upstreamChildren.get(route);
  if (!child) m.upstreamChildren.set(route, child = m.upstreamSeconds.labels(route));
  child.observe(seconds);
}

export function countRefresh(result: RefreshResult): void { active()?.refreshes.inc({ result }); }
export function countLogin(result: LoginResult): void { active()?.logins.inc({ result }); }
export function countStoreError(): void { active()?.storeErrors.inc(); }
export function countBackchannelLogout(result: BackchannelLogoutResult): void { active()?.backchannelLogouts.inc({ result }); }

/** The default Node process metrics (CPU, memory, event loop lag, GC…), registered once per process. */
export function collectProcessMetrics(): void {
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
}

/** The Prometheus exposition of every metric of this process. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: register.contentType, body: await register.metrics() };
}
