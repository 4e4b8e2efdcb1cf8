// Contract §3 on both transports, one suite: what reaches the upstream (its canary log is the
// witness), what is refused before any upstream is contacted, and what comes back to the browser.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rawRequest, type RawResponse } from '../harness/http-request';
import type { TestSession } from '../harness/session-from-idp';
import type { Transport } from '../harness/start-bff';
import { startProxyStack, type ProxyStack } from './proxy-stack';

const TIMEOUT_MS = 1000;
let stack: ProxyStack;
const sessions = {} as Record<Transport, TestSession>;

beforeAll(async () => {
  stack = await startProxyStack({ UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) });
  sessions.node = await stack.session('node');
  sessions.next = await stack.session('next');
}, 120_000);
afterAll(async () => { await stack?.close(); });

describe.each(['node', 'next'] as const)('OAuth Proxy contract (%s transport)', (transport) => {
  const origin = () => stack.bffs[transport].origin;
  const session = () => sessions[transport];
  /** What a same-origin fetch from the SPA sends. */
  const browser = (extra: Record<string, string> = {}) => ({ 'sec-fetch-site': 'same-origin', origin: origin(), cookie: session().cookie, ...extra });
  const send = (target: string, opts: Parameters<typeof rawRequest>[2] = {}) => rawRequest(origin(), target, opts);
  const expectNoUpstreamAddress = (res: RawResponse) => {
    const apiHost = new URL(stack.local.apiUrl).host;
    for (let i = 0; i < res.rawHeaders.length; i += 2) expect(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`).not.toContain(apiHost);
  };

  beforeEach(async () => { await stack.clearUpstreamLog(); });

  it('forwards a GET with exactly one Bearer, its own X-Forwarded-*, the pass-through headers, and nothing the drop-list names', async () => {
    const res = await send('/api/data/hello/world?x=1&y=%20z', {
      headers: browser({
        cookie: `${session().cookie}; other=1`,
        'x-th-csrf': session().csrf,
        authorization: 'Basic bWFsbG9yeTpzZWNyZXQ=',
        'proxy-authorization': 'Basic bWFsbG9yeQ==',
        'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'gopher',
        forwarded: 'for=6.6.6.6;host=evil.example', 'x-real-ip': '6.6.6.6',
        X_Forwarded_For: '7.7.7.7', x_forwarded_host: 'evil2.example',
        'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware',
        'x-nextjs-data': '1', rsc: '1', 'next-router-state-tree': '%5B%5D', 'next-action': 'abc',
        'x-http-method-override': 'DELETE', 'x-method-override': 'DELETE', 'x-http-method': 'DELETE',
        connection: 'keep-alive, x-hop-secret', 'x-hop-secret': 'hop',
        'accept-language': 'de-CH', 'if-none-match': '"v1"', 'x-request-id': 'req-42',
      }),
    });
    expect(res.status).toBe(200);
    expectNoUpstreamAddress(res);
    expect(res.headers['cache-control']).toBe('no-store');
    const [seen, ...more] = await stack.upstreamLog();
    expect(more).toEqual([]);
    expect(seen!.method).toBe('GET');
    expect(seen!.path).toBe('/hello/world');
    expect(seen!.query).toEqual({ x: '1', y: ' z' });
    // Node forwards the query byte for byte; Next re-serialises it before proxy.ts sees it (`%20` → `+`).
    if (transport === 'node') expect(seen!.url).toBe('/hello/world?x=1&y=%20z');
    const names = seen!.rawHeaders.map(([n]) => n);
    expect(seen!.rawHeaders.filter(([n]) => n === 'authorization')).toEqual([['authorization', `Bearer ${session().accessToken}`]]);
    for (const dropped of ['cookie', 'x-th-csrf', 'proxy-authorization', 'forwarded', 'x-real-ip', 'x_forwarded_for', 'x_forwarded_host',
      'x-middleware-subrequest', 'x-nextjs-data', 'rsc', 'next-router-state-tree', 'next-action',
      'x-http-method-override', 'x-method-override', 'x-http-method', 'x-hop-secret', 'x-forwarded-port']) {
      expect(names, dropped).not.toContain(dropped);
    }
    expect(seen!.headers['x-forwarded-host']).toBe(new URL(origin()).host);
    expect(seen!.headers['x-forwarded-proto']).toBe('http');
    // Node transport: the connection's address; proxy.ts cannot know it, so it sends none (never the client's).
    if (transport === 'node') expect(seen!.headers['x-forwarded-for']).toBe('127.0.0.1');
    else expect(seen!.headers['x-forwarded-for']).toBeUndefined();
    expect(JSON.stringify(seen!.headers)).not.toMatch(/6\.6\.6\.6|7\.7\.7\.7|evil/);
    expect(seen!.headers['accept-language']).toBe('de-CH');
    expect(seen!.headers['if-none-match']).toBe('"v1"');
    expect(seen!.headers['x-request-id']).toBe('req-42');
    expect(res.json()).toMatchObject({ sub: 'alice' });
  });

  it('forwards a POST body with the CSRF header stripped', async () => {
    const body = JSON.stringify({ order: 7 });
    const res = await send('/api/data/echo', { method: 'POST', body, headers: browser({ 'x-th-csrf': session().csrf, 'content-type': 'application/json', 'content-length': String(body.length) }) });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ method: 'POST', body, length: body.length, contentType: 'application/json' });
    const [seen] = await stack.upstreamLog();
    expect(seen!.headers['x-th-csrf']).toBeUndefined();
    expect(seen!.headers.cookie).toBeUndefined();
    expect(seen!.headers.authorization).toBe(`Bearer ${session().accessToken}`);
  });

  it('routes by longest prefix on a segment boundary and appends the remainder to the upstream base', async () => {
    const orders = await send('/api/orders/1?q=2', { headers: browser() });
    expect(orders.status).toBe(200);
    expect((await stack.upstreamLog())[0]!.url).toBe('/v1/1?q=2');
    for (const path of ['/api/ordersX', '/api/other', '/api']) {
      const res = await send(path, { headers: browser() });
      expect(res.status, path).toBe(404);
      expect(res.json().code, path).toBe('not_found');
      expect(res.headers['content-type']).toMatch(/application\/json/);
    }
    expect(await stack.upstreamLog()).toHaveLength(1);
  });

  const refusals: Array<[string, string, (h: Record<string, string>) => Record<string, string>]> = [
    ['no cookie', 'GET', ({ cookie: _c, ...h }) => h],
    ['a tampered cookie', 'GET', (h) => ({ ...h, cookie: h.cookie!.replace(/(__Host-th-at=)(.)/, (_m, n: string, c: string) => n + (c === 'A' ? 'B' : 'A')) })],
    ['a garbage cookie', 'GET', (h) => ({ ...h, cookie: '__Host-th-at=abc; __Host-th-csrf=def' })],
    ['Sec-Fetch-Site cross-site', 'GET', (h) => ({ ...h, 'sec-fetch-site': 'cross-site' })],
    ['Sec-Fetch-Site same-site', 'GET', (h) => ({ ...h, 'sec-fetch-site': 'same-site' })],
    ['a foreign Origin', 'GET', ({ 'sec-fetch-site': _s, ...h }) => ({ ...h, origin: 'http://evil.example' })],
    ['x-middleware-subrequest and no session', 'GET', ({ cookie: _c, ...h }) => ({ ...h, 'x-middleware-subrequest': 'middleware:middleware:middleware:middleware:middleware' })],
    ['x-middleware-subrequest proxy:… and no session', 'GET', ({ cookie: _c, ...h }) => ({ ...h, 'x-middleware-subrequest': 'proxy:proxy:proxy:proxy:proxy' })],
    ...(['POST', 'PUT', 'PATCH', 'DELETE'] as const).flatMap((m): typeof refusals => [
      [`${m} without the CSRF header`, m, (h) => h],
      [`${m} with a wrong CSRF header`, m, (h) => ({ ...h, 'x-th-csrf': `${session().csrf.slice(0, -2)}xx` })],
      [`${m} with the CSRF value in the cookie only`, m, (h) => ({ ...h, cookie: `${h.cookie}; x-th-csrf=${session().csrf}` })],
    ]),
  ];
  it.each(refusals)('401 unauthorized_request, nothing upstream: %s', async (_name, method, alter) => {
    const res = await send('/api/data/echo', { method, headers: { ...alter(browser()), 'content-length': '2' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.json().code).toBe('unauthorized_request');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await stack.upstreamLog()).toEqual([]);
  });

  // Next.js itself normalises dot segments (also %2e) and answers `//` and `\` with a 308 before
  // proxy.ts runs (measured on 16.4.6), so on that transport those variants never reach the policy:
  // they land on another path of the same origin, never an upstream path outside their prefix.
  const traversals: Array<[string, 'refused' | 'next-normalises' | 'next-redirects']> = [
    ['/api/data/../x', 'next-normalises'], ['/api/data/%2e%2e/x', 'next-normalises'], ['/api/data/%2E%2E/orders', 'next-normalises'],
    ['/api/data/%252e%252e/x', 'refused'], ['/api/data/%25252e%25252e/x', 'refused'], ['/api/data/a%2fb', 'refused'], ['/api/data/a%2Fb', 'refused'],
    ['/api/data/a%252fb', 'refused'], ['/api/data/a%5cb', 'refused'], ['/api/data/a\\b', 'next-redirects'], ['/api/data//x', 'next-redirects'],
    ['/api/data/a/./b', 'next-normalises'], ['/api/data/a%00b', 'refused'], ['/api/data/a%0ab', 'refused'], ['/api/data/%zz', 'refused'],
    ['/api/%64ata/x', 'refused'],
  ];
  it.each(traversals)('refuses %s before any upstream is contacted', async (target, kind) => {
    const res = await send(target, { headers: browser() });
    const log = await stack.upstreamLog();
    if (transport === 'node' || kind === 'refused') {
      expect(res.status).toBe(400);
      expect(res.json().code).toBe('invalid_request');
      expect(log).toEqual([]);
    } else if (kind === 'next-redirects') {
      expect(res.status).toBe(308);
      expect(log).toEqual([]);
    } else {
      // Whatever Next made of it, the upstream never saw a dot segment or a path outside the route.
      for (const entry of log) expect(entry.url).not.toMatch(/\.\.|%2e|\/\.\//i);
      expect(log.length).toBeLessThanOrEqual(1);
    }
  });

  it('upstream down → 502 bad_gateway; slow → 504 gateway_timeout within UPSTREAM_TIMEOUT_MS', async () => {
    const down = await send('/api/down/x', { headers: browser() });
    expect(down.status).toBe(502);
    expect(down.json().code).toBe('bad_gateway');
    expect(down.body).not.toContain(String(stack.deadPort));
    const t0 = Date.now();
    const slow = await send('/api/data/slow?ms=5000', { headers: browser() });
    const elapsed = Date.now() - t0;
    expect(slow.status).toBe(504);
    expect(slow.json().code).toBe('gateway_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
  });

  it('X-Content-Type-Options: nosniff on forwarded and on refused /api responses (the Node transport answers before Next\'s headers())', async () => {
    const ok = await send('/api/data/x', { headers: browser() });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    for (const [target, status] of [['/api/other', 404], ['/api/down/x', 502], ['/api/data/%2fx', 400]] as const) {
      const res = await send(target, { headers: browser() });
      expect(res.status, target).toBe(status);
      expect(res.headers['x-content-type-options'], target).toBe('nosniff');
    }
    const noSession = await send('/api/data/x', { headers: { 'sec-fetch-site': 'same-origin' } });
    expect(noSession.status).toBe(401);
    expect(noSession.headers['x-content-type-options']).toBe('nosniff');
  });

  it('passes an upstream 500 and 401 through with their bodies', async () => {
    for (const code of [500, 401, 418]) {
      const res = await send(`/api/data/status/${code}`, { headers: browser() });
      expect(res.status).toBe(code);
      expect(res.json()).toEqual({ status: code });
      expectNoUpstreamAddress(res);
    }
  });

  it('drops the upstream Set-Cookie and keeps its own Cache-Control', async () => {
    const res = await send('/api/data/set-cookie', { headers: browser() });
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
    const sse = await send('/api/data/sse?count=1&interval=1', { headers: browser() });
    expect(sse.headers['cache-control']).toBe('no-cache');
  });

  it('returns an upstream redirect as is, without following it', async () => {
    const res = await send('/api/data/redirect', { headers: browser() });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://127.0.0.1:9/elsewhere');
    expectNoUpstreamAddress(res);
    expect(await stack.upstreamLog()).toHaveLength(1);
  });

  it('streams SSE: the first event arrives before the stream ends', async () => {
    const res = await fetch(`${origin()}/api/data/sse?count=3&interval=400`, { headers: { ...browser(), 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push(Date.now());
      text += new TextDecoder().decode(value);
    }
    const end = Date.now();
    expect(text.split('\n\n').filter(Boolean)).toEqual(['data: {"n":0}', 'data: {"n":1}', 'data: {"n":2}']);
    expect(end - arrivals[0]!).toBeGreaterThanOrEqual(600);
  });
});

describe('Node transport: WebSocket handshakes whose upstream fails', () => {
  const origin = () => stack.bffs.node.origin;
  const handshake = (path: string) => new Promise<{ status?: number; body?: string; headers?: Record<string, unknown>; opened?: boolean }>((resolve, reject) => {
    const ws = new WebSocket(`${origin().replace('http', 'ws')}${path}`, { headers: { origin: origin(), cookie: sessions.node.cookie } });
    ws.once('open', () => { ws.close(); resolve({ opened: true }); });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
    });
    ws.once('error', reject);
  });

  it('an unreachable upstream answers the handshake with 502 bad_gateway JSON', async () => {
    const res = await handshake('/api/down/ws');
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body!).code).toBe('bad_gateway');
    expect(res.headers!['x-content-type-options']).toBe('nosniff');
    expect(res.body).not.toContain(String(stack.deadPort));
  });

  it('an upstream that never answers the handshake → 504 gateway_timeout within UPSTREAM_TIMEOUT_MS', async () => {
    const t0 = Date.now();
    const res = await handshake('/api/hang/ws');
    const elapsed = Date.now() - t0;
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body!).code).toBe('gateway_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
  });
});
