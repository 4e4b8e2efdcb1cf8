// RFC 6797 §7.2: Strict-Transport-Security exactly when PUBLIC_ORIGIN is https. The Node
// server decides per request from the run-time PUBLIC_ORIGIN (here https, as behind a TLS-terminating
// proxy, while the test talks plain http to the port); `next start` relies on the build's headers(),
// so on a build made without an https PUBLIC_ORIGIN it refuses to start rather than serve https without HSTS.
// (http origins never get the header: static-content.test.ts, on both transports.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port';
import { startBff, type RunningBff } from '../harness/start-bff';

const HSTS = 'max-age=31536000; includeSubDomains';
// An https PUBLIC_ORIGIN requires an https issuer. Nothing here needs the identity server or an
// upstream (no login, /api/* without a session is refused before any upstream), so neither exists.
const https = (port: number) => ({
  issuer: 'https://login.example.com', apiRoutes: '/api=http://127.0.0.1:9', env: { PUBLIC_ORIGIN: `https://localhost:${port}` },
});

describe('Node server with an https PUBLIC_ORIGIN', () => {
  let bff: RunningBff;
  let http: string;
  beforeAll(async () => {
    const port = await freePort();
    bff = await startBff({ transport: 'node', port, ...https(port) });
    http = `http://localhost:${port}`;
  });
  afterAll(async () => { await bff?.stop(); });

  it.each([
    ['GET', '/'], ['GET', '/orders/42'], ['GET', '/assets/demo-49259c14.css'], ['GET', '/missing.js'], ['GET', '/healthz'],
    ['GET', '/oauth-agent/session'], ['GET', '/api/echo'], ['POST', '/'],
  ])('%s %s carries HSTS and the other security headers', async (method, path) => {
    const res = await fetch(`${http}${path}`, { method, redirect: 'manual' });
    await res.arrayBuffer();
    expect(res.headers.get('strict-transport-security')).toBe(HSTS);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
  });
});

describe('next start with an https PUBLIC_ORIGIN on a build made without one', () => {
  it('refuses to start, naming PUBLIC_ORIGIN, instead of serving https without HSTS', async () => {
    const port = await freePort();
    const started = startBff({ transport: 'next', port, ...https(port) });
    const err = await started.then((b) => { void b.stop(); return null; }, (e: Error) => e);
    expect(err?.message).toMatch(/exited with 1/);
    expect(err?.message).toMatch(/PUBLIC_ORIGIN is https:\/\/localhost:\d+, but this build was made without an https PUBLIC_ORIGIN/);
  });
});
