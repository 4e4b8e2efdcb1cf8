// RFC 6797 §7.2: Strict-Transport-Security on https only. The build's headers() (next.config.js)
// decide it for `next start`/Vercel, the start-up check refuses a build that does not fit PUBLIC_ORIGIN.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkBuildStrictTransportSecurity } from '../startup';
import { securityHeadersFor, STRICT_TRANSPORT_SECURITY } from './security-headers.mjs';

const hsts = (headers: ReadonlyArray<readonly [string, string]>) => headers.find(([k]) => k.toLowerCase() === 'strict-transport-security')?.[1];

describe('securityHeadersFor', () => {
  it('adds HSTS for an https origin only', () => {
    expect(hsts(securityHeadersFor('https://www.example.com'))).toBe(STRICT_TRANSPORT_SECURITY);
    expect(STRICT_TRANSPORT_SECURITY).toMatch(/^max-age=31536000; includeSubDomains$/);
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:3000', undefined, '']) {
      expect(hsts(securityHeadersFor(origin)), String(origin)).toBeUndefined();
    }
    expect(securityHeadersFor('http://localhost:3000').map(([k]) => k)).toEqual(
      ['Content-Security-Policy', 'X-Content-Type-Options', 'Referrer-Policy', 'X-Frame-Options', 'Cross-Origin-Opener-Policy'],
    );
  });
});

describe('next.config.js headers() follow the PUBLIC_ORIGIN seen at build time', () => {
  afterEach(() => { vi.unstubAllEnvs(); vi.resetModules(); });

  async function buildConfig(publicOrigin: string | undefined) {
    vi.resetModules();
    if (publicOrigin === undefined) vi.stubEnv('PUBLIC_ORIGIN', undefined as unknown as string);
    else vi.stubEnv('PUBLIC_ORIGIN', publicOrigin);
    // @ts-expect-error next.config.js is plain JavaScript (allowJs is off); its shape is asserted here.
    const { default: nextConfig } = await import('../../next.config.js') as { default: (phase: string) => { env: Record<string, string>; headers(): Promise<Array<{ source: string; headers: Array<{ key: string; value: string }> }>> } };
    const config = nextConfig('phase-production-build');
    const all = (await config.headers()).find((r) => r.source === '/:path*')!;
    return { env: config.env, hsts: all.headers.find((h) => h.key === 'Strict-Transport-Security')?.value };
  }

  it('https at build: every path gets HSTS, and the build records it for the start-up check', async () => {
    expect(await buildConfig('https://www.example.com')).toEqual({ env: { TH_BUILD_HSTS: 'on' }, hsts: STRICT_TRANSPORT_SECURITY });
  });

  it.each([['http://localhost:3000'], [undefined]])('%s at build: no HSTS', async (origin) => {
    expect(await buildConfig(origin)).toEqual({ env: { TH_BUILD_HSTS: 'off' }, hsts: undefined });
  });
});

describe('checkBuildStrictTransportSecurity', () => {
  it('accepts a build that fits the run-time scheme on next start', () => {
    expect(checkBuildStrictTransportSecurity('https://www.example.com', true, undefined)).toBeUndefined();
    expect(checkBuildStrictTransportSecurity('http://localhost:3000', false, undefined)).toBeUndefined();
  });

  it('next start on https with a build made for http would drop HSTS: refused, naming PUBLIC_ORIGIN', () => {
    expect(checkBuildStrictTransportSecurity('https://www.example.com', false, undefined)).toMatch(/^PUBLIC_ORIGIN .*rebuild with PUBLIC_ORIGIN=https:\/\/www\.example\.com/);
  });

  it('the Node server sets HSTS itself, so any build without it runs on https', () => {
    expect(checkBuildStrictTransportSecurity('https://www.example.com', false, 'node')).toBeUndefined();
  });

  it.each([[undefined], ['node' as const]])('a build with HSTS on an http origin is refused on every transport (%s)', (transport) => {
    expect(checkBuildStrictTransportSecurity('http://localhost:3000', true, transport)).toMatch(/^PUBLIC_ORIGIN is http:\/\/localhost:3000/);
  });
});
