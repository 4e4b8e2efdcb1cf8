// docs/contract.md §9 on both transports: Prometheus metrics on their own port (counters move by
// exactly what the requests did), X-Request-Id (response, upstream, log lines) and OpenTelemetry
// traces exported over OTLP/HTTP JSON to a local receiver, whose trace id is the one the sample API
// received in `traceparent`. Witnesses: the metrics listener, the sample API's canary log, the
// receiver's spans and the BFF's own log lines.
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applySetCookies } from '../harness/browser-cookies';
import { freePort } from '../harness/free-port';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver';
import { delta, scrape } from '../harness/prometheus-text';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';
import { CSRF_HEADER, openSession } from './agent-test-helpers';

const TRANSPORTS: Transport[] = ['node', 'next'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

interface UpstreamEntry { path: string; headers: Record<string, string | string[]> }

let local: LocalStack;
let receiver: OtlpReceiver;
const bffs = {} as Record<Transport, RunningBff>;
const metricsUrls = {} as Record<Transport, string>;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const ports = await Promise.all(TRANSPORTS.map(() => freePort()));
  local = await startLocalStack({ idpPort: 0, apiPort: 0, bffOrigins: ports.map((p) => `http://localhost:${p}`) });
  const cookieKeys = randomCookieKey();
  for (const [i, transport] of TRANSPORTS.entries()) {
    const metricsPort = await freePort();
    metricsUrls[transport] = `http://127.0.0.1:${metricsPort}/metrics`;
    bffs[transport] = await startBff({
      transport, port: ports[i]!, issuer: local.issuer, apiRoutes: `/api/orders=${local.apiUrl}/v1,/api=${local.apiUrl}`, cookieKeys,
      env: {
        METRICS_PORT: String(metricsPort),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: `bff-${transport}`, OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(bffs).map((b) => b.stop()));
  await local?.close();
  await receiver?.close();
});

const upstreamLog = async () => (await fetch(`${local.apiUrl}/__log`)).json() as Promise<UpstreamEntry[]>;
const clearUpstreamLog = async () => { await fetch(`${local.apiUrl}/__log`, { method: 'DELETE' }); };
const header = (entry: UpstreamEntry | undefined, name: string) => {
  const v = entry?.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** Polls the receiver until `match` finds spans (the BFF exports in batches every 100 ms). */
async function spansWhere(match: (s: ReceivedSpan) => boolean, atLeast = 1): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = receiver.spans.filter(match);
    if (found.length >= atLeast || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(TRANSPORTS)('%s transport', (transport) => {
  const bff = () => bffs[transport];
  const metrics = () => metricsUrls[transport];
  const api = (path: string, cookies: string, init: RequestInit = {}, extra: Record<string, string> = {}) =>
    fetch(`${bff().origin}${path}`, { ...init, headers: browserHeaders(bff(), cookies, extra) });

  it('counts a login, API calls, a refresh and failed CSRF checks by exactly what happened', async () => {
    const before = (await scrape(metrics())).samples;
    const login = await loginThroughBff(bff(), 'alice');
    for (let i = 0; i < 3; i++) expect((await api('/api/whoami', login.cookies)).status).toBe(200);
    expect((await api('/api/orders/42', login.cookies)).status).toBe(200);
    const refresh = await fetch(`${bff().origin}/oauth-agent/refresh`, { method: 'POST', headers: browserHeaders(bff(), login.cookies, { [CSRF_HEADER]: login.csrf }) });
    expect(refresh.status).toBe(204);
    const cookies = applySetCookies(login.cookies, refresh.headers.getSetCookie());
    expect((await api('/api/whoami', cookies, { method: 'POST', body: '{}' })).status).toBe(401); // no CSRF header
    expect((await fetch(`${bff().origin}/oauth-agent/refresh`, { method: 'POST', headers: browserHeaders(bff(), cookies) })).status).toBe(401);
    const after = (await scrape(metrics())).samples;

    const d = (series: string) => delta(before, after, series);
    expect(d('nth_requests_total{component="agent",route="login_start",status="200"}')).toBe(1);
    expect(d('nth_requests_total{component="agent",route="login_end",status="200"}')).toBe(1);
    expect(d('nth_logins_total{result="success"}')).toBe(1);
    expect(d('nth_logins_total{result="failure"}')).toBe(0);
    expect(d('nth_requests_total{component="proxy",route="/api",status="200"}')).toBe(3);
    expect(d('nth_requests_total{component="proxy",route="/api/orders",status="200"}')).toBe(1);
    expect(d('nth_upstream_duration_seconds_count{route="/api"}')).toBe(3);
    expect(d('nth_upstream_duration_seconds_count{route="/api/orders"}')).toBe(1);
    expect(d('nth_requests_total{component="agent",route="refresh",status="204"}')).toBe(1);
    expect(d('nth_refresh_total{result="success"}')).toBe(1);
    for (const result of ['coalesced', 'successor', 'invalid_grant', 'error']) expect(d(`nth_refresh_total{result="${result}"}`)).toBe(0);
    expect(d('nth_requests_total{component="proxy",route="/api",status="401"}')).toBe(1);
    expect(d('nth_requests_total{component="agent",route="refresh",status="401"}')).toBe(1);
    // The refused POST never went upstream.
    expect(d('nth_upstream_duration_seconds_count{route="/api"}')).toBe(3);
  });

  it('serves the contract names, default process metrics, and no raw path, token or cookie in any label', async () => {
    const login = await loginThroughBff(bff(), 'bob');
    await api('/api/orders/secret-path-123?x=1', login.cookies);
    await api('/api/nowhere/../whoami', login.cookies);
    const { text, contentType } = await scrape(metrics());
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of ['nth_requests_total', 'nth_upstream_duration_seconds', 'nth_refresh_total', 'nth_logins_total', 'nth_store_errors_total', 'nth_backchannel_logouts_total', 'process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    const session = openSession(bff(), login.cookies)!;
    for (const secret of [session.accessToken, session.refreshToken!, login.csrf, 'secret-path-123', 'whoami', 'nowhere']) expect(text).not.toContain(secret);
    const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    for (const route of routes) expect(['/api', '/api/orders', 'none', 'login_start', 'login_end', 'session', 'user_info', 'claims', 'refresh', 'logout', 'backchannel_logout', 'unknown']).toContain(route);
  });

  it('never answers metrics on the public port', async () => {
    const response = await fetch(`${bff().origin}/metrics`);
    const text = await response.text();
    expect(response.headers.get('content-type') ?? '').not.toMatch(/version=0\.0\.4/);
    expect(text).not.toContain('nth_requests_total');
    expect(text).not.toContain('process_cpu');
  });

  it('answers every response with X-Request-Id: the client\'s when sane (also upstream), a new one otherwise', async () => {
    const login = await loginThroughBff(bff(), 'carol');
    await clearUpstreamLog();
    const sane = await api('/api/whoami', login.cookies, {}, { 'x-request-id': 'client-id-0001' });
    expect(sane.headers.get('x-request-id')).toBe('client-id-0001');
    const insane = await api('/api/whoami', login.cookies, {}, { 'x-request-id': 'x'.repeat(200) });
    const replaced = insane.headers.get('x-request-id')!;
    expect(replaced).toMatch(UUID);
    const none = await api('/api/whoami', login.cookies);
    expect(none.headers.get('x-request-id')).toMatch(UUID);
    expect(none.headers.get('x-request-id')).not.toBe(replaced);
    const log = await upstreamLog();
    expect(log.map((e) => header(e, 'x-request-id'))).toEqual(['client-id-0001', replaced, none.headers.get('x-request-id')]);
    for (const path of ['/oauth-agent/session', '/oauth-agent/nope', '/api/unlisted-but-matched-by-api', '/healthz']) {
      const r = await fetch(`${bff().origin}${path}`, { headers: browserHeaders(bff(), login.cookies, { 'x-request-id': `id-${path.length}` }) });
      expect(r.headers.get('x-request-id'), path).toBe(`id-${path.length}`);
    }
    const refused = await api('/api/whoami', login.cookies, { method: 'DELETE' }, { 'x-request-id': 'refused-1' }); // no CSRF
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe('refused-1');
  });

  it('writes the request id into the log lines of that request', async () => {
    const login = await loginThroughBff(bff(), 'dave');
    const refresh = await fetch(`${bff().origin}/oauth-agent/refresh`, {
      method: 'POST', headers: browserHeaders(bff(), login.cookies, { [CSRF_HEADER]: login.csrf, 'x-request-id': `refresh-${transport}-1` }),
    });
    expect(refresh.status).toBe(204);
    await api('/api/whoami', login.cookies, { method: 'POST', body: '{}' }, { 'x-request-id': `csrf-${transport}-1` });
    const lines = () => bff().logs.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });
    const deadline = Date.now() + 5_000;
    while (!lines().some((l) => l.requestId === `csrf-${transport}-1`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(lines().filter((l) => l.event === 'token_refreshed').at(-1)?.requestId).toBe(`refresh-${transport}-1`);
    expect(lines().filter((l) => l.event === 'request_rejected').at(-1)?.requestId).toBe(`csrf-${transport}-1`);
  });

  it('exports a server span per request and client spans, in the trace the upstream received in traceparent', async () => {
    const login = await loginThroughBff(bff(), 'erin');
    await clearUpstreamLog();
    expect((await api('/api/whoami', login.cookies, {}, { 'x-request-id': `trace-${transport}-1` })).status).toBe(200);
    const upstream = (await upstreamLog()).at(-1);
    const [, traceId, parentId] = TRACEPARENT.exec(header(upstream, 'traceparent') ?? '') ?? [];
    expect(traceId).toBeDefined();
    const spans = await spansWhere((s) => s.traceId === traceId, 2);
    expect(spans.every((s) => s.service === `bff-${transport}`)).toBe(true);
    const server = spans.find((s) => s.kind === 2)!;
    const client = spans.find((s) => s.kind === 3)!;
    expect(server.attributes).toMatchObject({ 'http.route': '/api', 'http.response.status_code': 200, 'nth.request_id': `trace-${transport}-1` });
    // The upstream's parent is our client span, itself a child of the server span.
    expect(client.spanId).toBe(parentId);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(client.attributes['http.response.status_code']).toBe(200);
  });

  it('continues a sane incoming traceparent and replaces a malformed one', async () => {
    const login = await loginThroughBff(bff(), 'frank');
    await clearUpstreamLog();
    const incoming = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    await api('/api/whoami', login.cookies, {}, { traceparent: incoming });
    await api('/api/whoami', login.cookies, {}, { traceparent: `00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01` });
    const [continued, fresh] = (await upstreamLog()).map((e) => TRACEPARENT.exec(header(e, 'traceparent') ?? '')!);
    expect(continued![1]).toBe('ab'.repeat(16));
    expect(continued![2]).not.toBe('cd'.repeat(8));
    expect(fresh![1]).not.toBe('0'.repeat(32));
    const [server] = await spansWhere((s) => s.traceId === 'ab'.repeat(16) && s.kind === 2);
    expect(server!.parentSpanId).toBe('cd'.repeat(8));
  });

  it('traces a login with identity-server client spans, and no token, cookie, code or state in any exported span', async () => {
    const start = await fetch(`${bff().origin}/oauth-agent/login/start`, { method: 'POST', headers: browserHeaders(bff()) });
    const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
    let cookies = applySetCookies('', start.headers.getSetCookie());
    const pageUrl = await loginAtIdentityServer(authorizationRequestUrl, 'grace', new IdpCookieJar());
    const end = await fetch(`${bff().origin}/oauth-agent/login/end`, {
      method: 'POST', headers: browserHeaders(bff(), cookies, { 'x-request-id': `login-${transport}-1` }), body: JSON.stringify({ pageUrl }),
    });
    const { csrf } = await end.json() as { csrf: string };
    cookies = applySetCookies(cookies, end.headers.getSetCookie());
    await api('/api/whoami', cookies);
    await fetch(`${bff().origin}/oauth-agent/userInfo`, { headers: browserHeaders(bff(), cookies) });
    const [loginSpan] = await spansWhere((s) => s.attributes['nth.request_id'] === `login-${transport}-1`);
    expect(loginSpan).toMatchObject({ kind: 2, attributes: { 'http.route': 'login_end', 'http.response.status_code': 200 } });
    const tokenCall = await spansWhere((s) => s.traceId === loginSpan!.traceId && s.kind === 3);
    expect(tokenCall.length).toBeGreaterThanOrEqual(1);
    expect(tokenCall.every((s) => s.parentSpanId === loginSpan!.spanId && s.attributes['nth.peer'] === 'identity-server')).toBe(true);

    const page = new URL(pageUrl);
    const session = openSession(bff(), cookies)!;
    const secrets = [page.searchParams.get('code')!, page.searchParams.get('state')!, session.accessToken, session.refreshToken!, session.idToken!, csrf,
      ...cookies.split(';').map((c) => c.trim().slice(c.trim().indexOf('=') + 1))];
    const exported = JSON.stringify(receiver.spans);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(exported.includes(secret), 'a secret in an exported span').toBe(false);
    }
    // Only our own spans leave: Next's (which copy the request target) are dropped.
    expect(new Set(receiver.spans.map((s) => s.scope))).toEqual(new Set(['next-token-handler']));
  });
});

describe('WebSocket handshakes (node transport)', () => {
  it('carry X-Request-Id (the client\'s, also upstream and in the log line) and count by status: 101 upgraded, 401 refused', async () => {
    const bff = bffs.node;
    const wsUrl = `${bff.origin.replace('http', 'ws')}/api/ws`;
    const login = await loginThroughBff(bff, 'dora');
    const before = (await scrape(metricsUrls.node)).samples;
    await clearUpstreamLog();

    const ws = new WebSocket(wsUrl, { headers: { origin: bff.origin, cookie: login.cookies, 'x-request-id': 'ws-upgrade-0001' } });
    const upgrade = new Promise<IncomingMessage>((resolve, reject) => { ws.once('upgrade', resolve); ws.once('error', reject); });
    const opened = new Promise((resolve) => { ws.once('open', resolve); }); // emitted right after 'upgrade'
    const upgraded = await upgrade;
    await opened;
    ws.close();
    expect(upgraded.statusCode).toBe(101);
    expect(upgraded.headers['x-request-id']).toBe('ws-upgrade-0001');
    expect(header((await upstreamLog()).find((e) => e.path === '/ws'), 'x-request-id')).toBe('ws-upgrade-0001');

    const refusedWs = new WebSocket(wsUrl, { headers: { origin: bff.origin, 'x-request-id': 'ws-refused-0002' } });
    const refused = await new Promise<IncomingMessage>((resolve, reject) => {
      refusedWs.once('unexpected-response', (_req, res) => resolve(res));
      refusedWs.once('error', reject);
    });
    refused.resume();
    refusedWs.terminate();
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['x-request-id']).toBe('ws-refused-0002');
    // The child's stdout arrives when it arrives: poll for the line.
    const logged = () => bff.logs.some((l) => l.includes('"event":"request_rejected"') && l.includes('"requestId":"ws-refused-0002"'));
    for (const deadline = Date.now() + 5_000; !logged() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 25));
    expect(logged(), bff.logs.filter((l) => l.includes('request_rejected')).slice(-3).join('\n')).toBe(true);

    const after = (await scrape(metricsUrls.node)).samples;
    expect(delta(before, after, 'nth_requests_total{component="proxy",route="/api",status="101"}')).toBe(1);
    expect(delta(before, after, 'nth_requests_total{component="proxy",route="/api",status="401"}')).toBe(1);
  });
});

describe('shutdown (node transport)', () => {
  it('exports the spans still queued in their batch when the server stops', async () => {
    const port = await freePort();
    const bff = await startBff({
      transport: 'node', port, issuer: local.issuer, apiRoutes: `/api=${local.apiUrl}`, keepLogs: false,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'bff-shutdown', OTEL_BSP_SCHEDULE_DELAY: '600000' },
    });
    try {
      const response = await fetch(`${bff.origin}/oauth-agent/session`, { headers: { ...browserHeaders(bff), 'x-request-id': 'before-shutdown-1' } });
      expect(response.status).toBe(200);
      expect(receiver.spans.some((s) => s.service === 'bff-shutdown')).toBe(false); // still in its batch
    } finally {
      expect(await bff.stop()).toBe(0);
    }
    expect(receiver.spans.filter((s) => s.service === 'bff-shutdown').map((s) => s.attributes['nth.request_id'])).toContain('before-shutdown-1');
  });
});
