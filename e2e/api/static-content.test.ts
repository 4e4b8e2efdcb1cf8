// The SPA's static files, their caching and security headers, the index.html fallback for
// client-side routes, Next features kept closed, and /readyz, on both transports of the built app.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port';
import { startBff, type Transport } from '../harness/start-bff';
import { startStack, type Stack } from '../harness/stack';

const INDEX_HTML = readFileSync(resolve(import.meta.dirname, '../../public/index.html'), 'utf8');
const ASSET = '/assets/demo-49259c14.css';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

let stack: Stack;
beforeAll(async () => { stack = await startStack({ transports: ['node', 'next'] }); });
afterAll(async () => { await stack?.close(); });

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get('content-security-policy')).toBe(CSP);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  // RFC 6797 §7.2: these stacks run on http://localhost, so never HSTS (strict-transport-security.test.ts has https).
  expect(res.headers.get('strict-transport-security')).toBeNull();
  expect(res.headers.get('x-powered-by')).toBeNull();
}

describe.each<Transport>(['node', 'next'])('static content (%s transport)', (transport) => {
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, stack.bff(transport).origin), { redirect: 'manual', ...init });

  it.each(['/', '/index.html', '/orders/42', '/orders/42?tab=items#x', '/deeply/nested/client/route'])(
    '%s serves index.html with no-cache and the security headers',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expectSecurityHeaders(res);
      expect(await res.text()).toBe(INDEX_HTML);
    },
  );

  it('the page links the fingerprinted stylesheet, which is cached as immutable', async () => {
    expect(INDEX_HTML).toContain(`href="${ASSET}"`);
    const res = await get(ASSET);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/css/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(res);
  });

  it.each(['/missing.js', '/assets/missing-0a1b2c3d.css', '/orders/42.json', '/.well-known/security.txt'])(
    'a missing file with an extension (%s) is a 404, never index.html',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('cache-control')).not.toMatch(/immutable/);
      expectSecurityHeaders(res);
      expect(await res.text()).not.toBe(INDEX_HTML);
    },
  );

  it.each(['/api/unknown/route', '/api', '/oauth-agent/no-such-endpoint', '/oauth-agent', '/_next/nothing-here'])(
    '%s is never answered with index.html',
    async (path) => {
      for (const method of ['GET', 'POST']) {
        const res = await get(path, { method, headers: { accept: 'text/html' } });
        const body = await res.text();
        expect(res.status, `${method} ${path}`).not.toBe(200);
        expect(body).not.toBe(INDEX_HTML);
        expectSecurityHeaders(res);
      }
    },
  );

  it('the image optimizer is not usable: /_next/image fetches nothing', async () => {
    const canary = async () => (await fetch(`${stack.local.apiUrl}/__log`)).json();
    const before = await canary();
    for (const url of [ASSET, `${stack.local.apiUrl}/echo`, 'https://example.com/a.png']) {
      const res = await get(`/_next/image?url=${encodeURIComponent(url)}&w=64&q=75`);
      expect(res.status).toBe(404);
    }
    expect(await canary()).toEqual(before);
  });

  // There are no server actions. Next answers any method but GET/HEAD on a public/ file or the
  // fallback with a plain-text 500 (it renders a pages-router /405 page that an App-Router-only build
  // lacks); the Node server answers such requests itself with the contract's 405 before Next.
  it('a forged server-action POST runs nothing and reveals nothing', async () => {
    const res = await get('/', { method: 'POST', headers: { 'next-action': 'x'.repeat(40), 'content-type': 'text/plain;charset=UTF-8', origin: stack.bff(transport).origin }, body: '[]' });
    expect(res.status).toBe(transport === 'node' ? 405 : 500);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    const body = await res.text();
    expect(body).not.toBe(INDEX_HTML);
    expect(body).not.toMatch(/at .*\.js:\d+|node_modules|Error:/);
    expectSecurityHeaders(res);
  });

  it.each([['POST', '/'], ['PUT', '/orders/42'], ['DELETE', ASSET], ['PATCH', '/index.html'], ['OPTIONS', '/'], ['POST', '/healthz'], ['POST', '/_next/static/x.js']])(
    '%s %s: never the page; on the Node server the JSON 405 method_not_allowed',
    async (method, path) => {
      const res = await get(path, { method, ...(method === 'OPTIONS' || method === 'DELETE' ? {} : { headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(100_000) }) });
      const body = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(body).not.toBe(INDEX_HTML);
      expect(body).not.toMatch(/at .*\.js:\d+|node_modules/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      if (transport === 'node') {
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(JSON.parse(body).code).toBe('method_not_allowed');
        expectSecurityHeaders(res);
      }
      // The connection stays usable after an unread body (the Node server closes it rather than misparse).
      expect((await get('/healthz')).status).toBe(200);
    },
  );

  it('/healthz and /readyz answer JSON with no-store and nosniff; ready while the identity server is up', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(ready.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await ready.json()).toEqual({ status: 'ready', store: 'none' });
  });
});

describe('readiness follows the identity server', () => {
  // Accepts connections and never answers: only the 2 s discovery timeout ends the wait.
  let hanging: Server;
  let hangingIssuer: string;
  beforeAll(async () => {
    hanging = createServer(() => { /* silence */ });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
    hangingIssuer = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  });
  afterAll(() => { hanging?.close(); });

  const issuers: Record<string, () => Promise<string>> = {
    'an issuer nobody listens on': async () => `http://127.0.0.1:${await freePort()}`,
    'an issuer that differs from the discovery metadata by a trailing slash': async () => `${stack.local.issuer}/`,
    'an issuer that accepts connections and never answers': async () => hangingIssuer,
  };
  it.each((['node', 'next'] as const).flatMap((t) => Object.keys(issuers).map((what) => [t, what] as const)))(
    '%s transport: /readyz is 503 not_ready with %s, while /healthz stays 200',
    async (transport, what) => {
      const bff = await startBff({ transport, port: await freePort(), issuer: await issuers[what]!(), apiRoutes: `/api=${stack.local.apiUrl}` });
      try {
        const started = Date.now();
        const ready = await fetch(`${bff.origin}/readyz`);
        expect(ready.status).toBe(503);
        expect(await ready.json()).toEqual({ status: 'not_ready', store: 'none' });
        expect(Date.now() - started).toBeLessThan(5_000);
        expect((await fetch(`${bff.origin}/healthz`)).status).toBe(200);
        expect(bff.logs.some((l) => l.includes('"event":"readiness_failed"'))).toBe(true);
      } finally {
        await bff.stop();
      }
    },
  );

  // Last: it takes the shared identity server down.
  it('both transports turn not_ready once the identity server stops (after the short success cache)', async () => {
    await stack.local.identity.close();
    for (const transport of ['node', 'next'] as const) {
      const origin = stack.bff(transport).origin;
      let status = 0;
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
        status = (await fetch(`${origin}/readyz`)).status;
        if (status === 503) break;
      }
      expect(status, transport).toBe(503);
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    }
  });
});
