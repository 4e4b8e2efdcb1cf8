// One bench case: the request it sends, a correctness probe before any load (a variant that
// answers wrongly is reported, never timed), and a measured run with the CPU time the proxy's and
// the upstream's processes spent on it.
import { runLoad, type LoadResult, type LoadSpec } from './load';
import { treeCpuSeconds, type RunningServer } from './processes';
import { POST_BYTES, postBody, type BenchCase } from './variants';

export interface CaseAuth { cookie: string; csrfHeader?: string; csrf?: string }

export interface CaseTarget {
  /** The proxy's process; absent for `direct`. */
  proxy?: RunningServer;
  upstream: RunningServer;
  load: LoadSpec;
  /** Whether the upstream must see `Authorization: Bearer` (authenticated variants). */
  expectBearer: boolean;
}

export interface MeasuredRound extends LoadResult { proxyCpuSeconds: number | null; upstreamCpuSeconds: number }

export function requestFor(c: BenchCase, port: number, auth: CaseAuth | undefined, settings: { connections: number }): LoadSpec {
  const path = c.variant === 'direct' ? '/items' : '/api/items';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (c.auth === 'ours') {
    // A browser's same-origin fetch: the host it used, Fetch Metadata, and the CSRF header on POST.
    headers.host = `localhost:${port}`;
    headers['sec-fetch-site'] = 'same-origin';
  }
  if (auth) headers.cookie = auth.cookie;
  if (c.method === 'POST') {
    headers['content-type'] = 'application/json';
    if (auth?.csrfHeader && auth.csrf) headers[auth.csrfHeader] = auth.csrf;
  }
  return {
    url: `http://127.0.0.1:${port}${path}`, method: c.method, headers,
    body: c.method === 'POST' ? postBody() : undefined, connections: settings.connections, durationSeconds: 1,
  };
}

/** Undefined when the variant answers as it must; otherwise what was wrong (status, JSON code). */
export async function probeCase(t: CaseTarget, method: 'GET' | 'POST'): Promise<string | undefined> {
  const { host: _host, ...headers } = t.load.headers;
  let res: Response;
  try {
    res = await fetch(t.load.url, { method, headers, body: t.load.body });
  } catch (err) {
    return `request failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  const text = await res.text();
  let json: { ok?: boolean; bearer?: boolean; received?: number; code?: string } = {};
  try { json = JSON.parse(text); } catch { /* reported below */ }
  if (res.status !== 200) return `answered ${res.status}${json.code ? ` ${json.code}` : ''}`;
  if (json.ok !== true) return 'the upstream did not answer';
  if (json.bearer !== t.expectBearer) return t.expectBearer ? 'no Bearer token reached the upstream' : 'unexpected Authorization header upstream';
  if (method === 'POST' && json.received !== POST_BYTES) return `upstream received ${json.received} of ${POST_BYTES} body bytes`;
  return undefined;
}

export async function measureCase(t: CaseTarget, settings: { warmupSeconds: number; durationSeconds: number }): Promise<MeasuredRound> {
  await runLoad({ ...t.load, durationSeconds: settings.warmupSeconds });
  const proxy0 = t.proxy ? treeCpuSeconds(t.proxy.pid) : 0;
  const upstream0 = treeCpuSeconds(t.upstream.pid);
  const result = await runLoad({ ...t.load, durationSeconds: settings.durationSeconds });
  const proxyCpuSeconds = t.proxy ? treeCpuSeconds(t.proxy.pid) - proxy0 : null;
  return { ...result, proxyCpuSeconds, upstreamCpuSeconds: treeCpuSeconds(t.upstream.pid) - upstream0 };
}
