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

  it('is not ready when the metadata issuer differs, even by a trailing slash, and never caches a failure', async () => {
    const issuer = freshIssuer();
    const fetch = discovery(`${issuer}/`);
    expect(await checkIdentityServerReady({ issuer, fetch })).toBe(false);
    expect(await checkIdentityServerReady({ issuer, fetch })).toBe(false);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('is not ready on a non-2xx answer, a non-JSON body, or a network error', async () => {
    const issuer = freshIssuer();
    expect(await checkIdentityServerReady({ issuer, fetch: discovery(issuer, 500) })).toBe(false);
    expect(await checkIdentityServerReady({ issuer, fetch: vi.fn(async () => new Response('<html>')) })).toBe(false);
    expect(await checkIdentityServerReady({ issuer, fetch: vi.fn(async () => { throw new TypeError('fetch failed'); }) })).toBe(false);
  });

  it('gives up after the timeout instead of hanging the probe', async () => {
    const issuer = freshIssuer();
    const hang: typeof fetch = (_url, init) => new Promise((_res, rej) => init?.signal?.addEventListener('abort', () => rej(init.signal!.reason)));
    const started = Date.now();
    expect(await checkIdentityServerReady({ issuer, fetch: hang, timeoutMs: 200 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
