import { describe, expect, it, vi } from 'vitest';
import { checkIdentityServerReady, discoveryUrl } from './readiness';

let n = 0;
const freshIssuer = () => `https://idp${++n}.example.com/realms/x`;
const discovery = (issuer: string, status = 200) => vi.fn(async () => Response.json({ issuer }, { status }));

describe('checkIdentityServerReady', () => {
  it('appends the well-known path to an issuer with a path (OIDC Discovery §4)', () => {
    expect(discoveryUrl('https://a.example/realms/x')).toBe('https://a.example/realms/x/.well-known/openid-configuration');
    expect(discoveryUrl('https://a.example/')).toBe('https://a.example/.well-known/openid-configuration');
  });

  it('is ready when discovery names exactly the configured issuer, and caches that success', async () => {
    const issuer = freshIssuer();
    const fetch = discovery(issuer);
    let t = 1_000;
    expect(await checkIdentityServerReady({ issuer, fetch, now: () => t, cacheMs: 5_000 })).toBe(true);
    expect(await checkIdentityServerReady({ issuer, fetch, now: () => t + 4_000, cacheMs: 5_000 })).toBe(true);
    expect(fetch).toHaveBeenCalledTimes(1);
    t += 6_000;
    expect(await checkIdentityServerReady({ issuer, fetch, now: () => t, cacheMs: 5_000 })).toBe(true);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('is not ready when the metadata issuer differs, even by a trailing slash; a failure is cached only briefly', async () => {
    const issuer = freshIssuer();
    const fetch = discovery(`${issuer}/`);
    let t = 1_000;
    expect(await checkIdentityServerReady({ issuer, fetch, now: () => t, failureCacheMs: 1_000 })).toBe(false);
    expect(await checkIdentityServerReady({ issuer, fetch, now: () => t + 900, failureCacheMs: 1_000 })).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(1);
    t += 1_100;
    expect(await checkIdentityServerReady({ issuer, fetch, now: () => t, failureCacheMs: 1_000 })).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('does not amplify probes: 100 probes while the IdP fails → one request per failure window, one log line per change of state', async () => {
    const issuer = freshIssuer();
    let up = false;
    let requests = 0;
    const fetch = vi.fn(async () => {
      requests += 1;
      await new Promise((r) => setTimeout(r, 20));
      return up ? Response.json({ issuer }) : new Response('down', { status: 503 });
    });
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { lines.push(String(chunk)); return true; });
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { lines.push(String(chunk)); return true; });
    let t = 10_000;
    const probe = () => checkIdentityServerReady({ issuer, fetch, now: () => t, failureCacheMs: 1_000 });
    try {
      // 50 concurrent probes share one request; 50 more spread over 2.5 s of (fake) time make ~3 more.
      expect(new Set(await Promise.all(Array.from({ length: 50 }, probe)))).toEqual(new Set([false]));
      for (let i = 0; i < 50; i += 1) { t += 50; expect(await probe()).toBe(false); }
      expect(requests).toBeGreaterThanOrEqual(2);
      expect(requests).toBeLessThanOrEqual(4);
      up = true;
      t += 1_100;
      expect(await probe()).toBe(true);
      up = false;
      t += 6_000;
      expect(await probe()).toBe(false);
      expect(await probe()).toBe(false);
    } finally {
      spy.mockRestore();
      out.mockRestore();
    }
    const events = lines.map((l) => JSON.parse(l) as { event: string; reason?: string });
    expect(events.map((e) => e.event)).toEqual(['readiness_failed', 'readiness_recovered', 'readiness_failed']);
    expect(events[0]).toMatchObject({ reason: 'discovery_status' });
  });

  it('is not ready on a non-2xx answer, a non-JSON body, or a network error', async () => {
    const [a, b, c] = [freshIssuer(), freshIssuer(), freshIssuer()];
    expect(await checkIdentityServerReady({ issuer: a, fetch: discovery(a, 500) })).toBe(false);
    expect(await checkIdentityServerReady({ issuer: b, fetch: vi.fn(async () => new Response('<html>')) })).toBe(false);
    expect(await checkIdentityServerReady({ issuer: c, fetch: vi.fn(async () => { throw new TypeError('fetch failed'); }) })).toBe(false);
  });

  it('gives up after the timeout instead of hanging the probe', async () => {
    const issuer = freshIssuer();
    const hang: typeof fetch = (_url, init) => new Promise((_res, rej) => init?.signal?.addEventListener('abort', () => rej(init.signal!.reason)));
    const started = Date.now();
    expect(await checkIdentityServerReady({ issuer, fetch: hang, timeoutMs: 200 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
