// What each transport does with big bodies and long-lived connections (README "Two transports"):
// the Node transport streams 50 MB uploads, refuses over-limit bodies with 413 whether declared or
// chunked, proxies WebSockets with the session's Bearer; proxy.ts refuses what Next would cut short.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rawRequest } from '../harness/http-request';
import type { TestSession } from '../harness/session-from-idp';
import type { Transport } from '../harness/start-bff';
import { startProxyStack, type ProxyStack } from './proxy-stack';

const MAX_BODY_BYTES = 60_000_000;
let stack: ProxyStack;
const sessions = {} as Record<Transport, TestSession>;

beforeAll(async () => {
  stack = await startProxyStack({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  sessions.node = await stack.session('node', 'bob');
  sessions.next = await stack.session('next', 'bob');
}, 120_000);
afterAll(async () => { await stack?.close(); });
beforeEach(async () => { await stack.clearUpstreamLog(); });

const headersFor = (t: Transport, extra: Record<string, string> = {}) => ({
  'sec-fetch-site': 'same-origin', origin: stack.bffs[t].origin, cookie: sessions[t].cookie, 'x-th-csrf': sessions[t].csrf, ...extra,
});

/** `total` bytes of pseudo-random data in 1 MiB chunks, and their SHA-256 once fully read. */
function generatedBody(total: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  const block = randomBytes(1024 * 1024);
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= total) { this.push(null); return; }
      const chunk = block.subarray(0, Math.min(block.length, total - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

describe('Node transport: streamed bodies, limits, WebSockets', () => {
  const origin = () => stack.bffs.node.origin;

  it('streams a 50 MB chunked upload through unchanged', async () => {
    const body = generatedBody(50 * 1024 * 1024);
    const res = await rawRequest(origin(), '/api/data/echo', { method: 'POST', body: body.stream, headers: headersFor('node', { 'content-type': 'application/octet-stream' }), timeoutMs: 60_000 });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ length: 50 * 1024 * 1024, sha256: body.digest() });
  }, 60_000);

  it('413 payload_too_large for a Content-Length over MAX_BODY_BYTES, before any upstream is contacted', async () => {
    const res = await rawRequest(origin(), '/api/data/echo', { method: 'POST', headers: headersFor('node', { 'content-length': String(MAX_BODY_BYTES + 1) }), body: Readable.from([Buffer.alloc(1024)]) });
    expect(res.status).toBe(413);
    expect(res.json().code).toBe('payload_too_large');
    expect(await stack.upstreamLog()).toEqual([]);
  });

  it('413 payload_too_large when a chunked body crosses MAX_BODY_BYTES mid-stream; the upstream never gets a complete body', async () => {
    const body = generatedBody(MAX_BODY_BYTES + 5 * 1024 * 1024);
    const res = await rawRequest(origin(), '/api/data/echo', { method: 'POST', body: body.stream, headers: headersFor('node'), timeoutMs: 60_000 });
    expect(res.status).toBe(413);
    expect(res.json().code).toBe('payload_too_large');
    // The upstream saw the request start (streaming) and then an abort, never an end it could answer.
    const log = await stack.upstreamLog();
    expect(log.length).toBeLessThanOrEqual(1);
  }, 60_000);

  it('accepts 40 KB of cookies and headers (chunked large-token sessions); answers 431 beyond its limit without crashing', async () => {
    // Cookies are never forwarded, so this measures the BFF's own limit, not the upstream's (16 KB).
    const big = await rawRequest(origin(), '/api/data/x', { headers: headersFor('node', { cookie: `${sessions.node.cookie}; pad=${'p'.repeat(40 * 1024)}` }) });
    expect(big.status).toBe(200);
    const huge = await rawRequest(origin(), '/api/data/x', { headers: headersFor('node', { cookie: `${sessions.node.cookie}; pad=${'p'.repeat(80 * 1024)}` }) });
    expect(huge.status).toBe(431);
    expect((await rawRequest(origin(), '/healthz')).status).toBe(200);
  });

  const openWs = (headers: Record<string, string>) => new Promise<{ ws?: WebSocket; status?: number; body?: string }>((resolve, reject) => {
    const ws = new WebSocket(`${origin().replace('http', 'ws')}/api/data/ws`, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    ws.once('error', reject);
  });

  it('proxies a WebSocket from PUBLIC_ORIGIN with a valid session, adding the Bearer to the handshake', async () => {
    const { ws } = await openWs({ origin: origin(), cookie: sessions.node.cookie });
    expect(ws).toBeDefined();
    const echoed = new Promise<string>((r) => ws!.once('message', (d) => r(String(d))));
    ws!.send('hello over the proxy');
    expect(await echoed).toBe('hello over the proxy');
    ws!.close();
    const [seen] = await stack.upstreamLog();
    expect(seen!.path).toBe('/ws');
    expect(seen!.headers.authorization).toBe(`Bearer ${sessions.node.accessToken}`);
    expect(seen!.headers.cookie).toBeUndefined();
  });

  it.each([
    ['a foreign Origin', () => ({ origin: 'http://evil.example', cookie: sessions.node.cookie })],
    ['no Origin', () => ({ cookie: sessions.node.cookie })],
    ['no session', () => ({ origin: origin() })],
  ])('refuses a WebSocket handshake with %s: 401 JSON, nothing upstream', async (_name, headers) => {
    const { ws, status, body } = await openWs(headers());
    ws?.close();
    expect(ws).toBeUndefined();
    expect(status).toBe(401);
    expect(JSON.parse(body!).code).toBe('unauthorized_request');
    expect(await stack.upstreamLog()).toEqual([]);
  });
});

describe('Next transport (proxy.ts): bodies Next would cut short', () => {
  const origin = () => stack.bffs.next.origin;

  it('forwards a 1 MB body intact', async () => {
    const body = randomBytes(1024 * 1024);
    const res = await rawRequest(origin(), '/api/data/echo', { method: 'POST', body, headers: headersFor('next', { 'content-length': String(body.length) }) });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ length: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it.each([
    ['declared over the transport limit', 9.5 * 1024 * 1024, true],
    ['beyond Next\'s 10 MiB buffer, declared', 11 * 1024 * 1024, true],
    ['beyond Next\'s 10 MiB buffer, chunked', 11 * 1024 * 1024, false],
  ])('413 payload_too_large for a body %s, never a truncated forward', async (_name, size, declared) => {
    const body = generatedBody(size);
    const res = await rawRequest(origin(), '/api/data/echo', {
      method: 'POST', body: body.stream, headers: headersFor('next', declared ? { 'content-length': String(size) } : {}), timeoutMs: 60_000,
    });
    expect(res.status).toBe(413);
    expect(res.json().code).toBe('payload_too_large');
    expect(await stack.upstreamLog()).toEqual([]);
  }, 60_000);
});
