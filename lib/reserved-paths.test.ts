import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_PATH, API_PATH, isApiPath, isOwnMethodsPath, PROBE_PATHS, RESERVED_SOURCE_PATTERN } from './reserved-paths.mjs';

const reserved = new RegExp(`^(?:${RESERVED_SOURCE_PATTERN})`);
const isReserved = (path: string) => reserved.test(path.slice(1));

describe('reserved paths', () => {
  it('the source pattern reserves the agent, the proxy, the probes and Next\'s assets, and nothing of the SPA', () => {
    for (const p of ['/api', '/api/', '/api/orders/1', '/oauth-agent', '/oauth-agent/login/start', '/healthz', '/readyz', '/_next/static/x.js']) {
      expect(isReserved(p), p).toBe(true);
    }
    for (const p of ['/', '/apis', '/api-docs', '/oauth-agents', '/healthz/x', '/readyz2', '/_nextx', '/_next', '/settings']) {
      expect(isReserved(p), p).toBe(false);
    }
  });

  it('isApiPath and isOwnMethodsPath take request-targets, queries included', () => {
    expect(['/api', '/api/x', '/api?x=1'].map(isApiPath)).toEqual([true, true, true]);
    expect(['/apix', '/', undefined, '/oauth-agent/session'].map(isApiPath)).toEqual([false, false, false, false]);
    expect(['/oauth-agent', '/oauth-agent/x', '/oauth-agent?x', '/api/y'].map(isOwnMethodsPath)).toEqual([true, true, true, true]);
    expect(['/oauth-agentx', '/index.html'].map(isOwnMethodsPath)).toEqual([false, false]);
  });

  // proxy.ts sees the proxy's paths (its own and each app's under a base path, contract §8), an app's
  // agent under its base path, and the probes (X-Request-Id); never static files or page loads (their
  // CPU under `next start`), nor the root agent, whose route handlers set X-Request-Id themselves.
  it('proxy.ts\'s matcher (a literal, as Next requires) is API_PATH, an app\'s base-path proxy and agent, and PROBE_PATHS', () => {
    const source = readFileSync(new URL('../proxy.ts', import.meta.url), 'utf8');
    const matcher = /export const config = \{ matcher: \[([^\]]*)\] \}/.exec(source)?.[1];
    const expected = [`${API_PATH}/:path*`, `/:base+${API_PATH}/:path*`, `/:base+${AGENT_PATH}/:path*`, ...PROBE_PATHS];
    expect(matcher).toBe(expected.map((m) => `'${m}'`).join(', '));
  });

  it('next.config.js takes its reserved paths from this module, not a copy', () => {
    const config = readFileSync(new URL('../next.config.js', import.meta.url), 'utf8');
    expect(config).toContain("from './lib/reserved-paths.mjs'");
    expect(config).not.toMatch(/oauth-agent\(\?:/);
  });
});
