// lib/ loads once per process. In the Node server entry, /api/* is served by
// dist/server.mjs's proxy and /oauth-agent/* by Next's route handlers in the same process; both
// import the built package @next-token-handler/lib at run time, so they share one refresh
// coordinator and one successor store. Witness: the identity server's grant log. With two copies of
// lib/, the second refresh of a session would run its own grant with the rotated refresh token.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import { callAgent, idpEvents, openSession, refreshGrants } from './agent-test-helpers';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN_SECONDS = 2;

/** Polls the cookie's own expiry against the clock: resolves once the access token has expired. */
async function untilExpired(expiresAt: number): Promise<void> {
  while (Date.now() / 1000 < expiresAt + 0.05) await new Promise((r) => setTimeout(r, 50));
}

describe('one instance of lib/ in the Node server entry: proxy and agent share the refresh state', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A grace window far longer than the test: whichever component refreshes second finds the first
    // one's successor tokens, whatever the machine's speed.
    stack = await startStack({ transports: ['node'], accessTokenTtl: TOKEN_SECONDS, bffEnv: { REFRESH_GRACE_SECONDS: '600' } });
  }, 120_000);
  afterAll(async () => { await stack?.close(); });

  const bff = () => stack.bff('node');
  const api = (cookies: string) => fetch(`${bff().origin}/api/whoami`, { headers: browserHeaders(bff(), cookies) });
  const agentRefresh = (cookies: string, csrf: string) => callAgent(bff(), 'refresh', { cookies, csrf });
  const tokensAfter = (cookies: string, res: Response) => openSession(bff(), applySetCookies(cookies, res.headers.getSetCookie()))!;
  async function expiredSession() {
    const login = await loginThroughBff(bff(), 'alice');
    await untilExpired(openSession(bff(), login.cookies)!.accessTokenExpiresAt);
    const since = Date.now();
    return { login, grants: async () => refreshGrants((await idpEvents(stack.local.issuer)).filter((e) => e.at >= since)).length };
  }

  it('POST /oauth-agent/refresh (Next route) then /api with the same pre-rotation cookies (Node proxy) → one grant, the same successor', async () => {
    const { login, grants } = await expiredSession();
    const agent = await agentRefresh(login.cookies, login.csrf);
    expect(agent.status).toBe(204);
    const proxied = await api(login.cookies);
    expect(proxied.status).toBe(200);
    expect(tokensAfter(login.cookies, proxied).refreshToken).toBe(tokensAfter(login.cookies, agent).refreshToken);
    expect(tokensAfter(login.cookies, proxied).accessToken).toBe(tokensAfter(login.cookies, agent).accessToken);
    expect(await grants()).toBe(1);
  });

  it('/api (Node proxy) then POST /oauth-agent/refresh (Next route) with the same pre-rotation cookies → one grant, the same successor', async () => {
    const { login, grants } = await expiredSession();
    const proxied = await api(login.cookies);
    expect(proxied.status).toBe(200);
    const agent = await agentRefresh(login.cookies, login.csrf);
    expect(agent.status).toBe(204);
    expect(tokensAfter(login.cookies, agent).refreshToken).toBe(tokensAfter(login.cookies, proxied).refreshToken);
    expect(await grants()).toBe(1);
  });

  it('both in parallel for one expired session → one grant in total', async () => {
    const { login, grants } = await expiredSession();
    const [proxied, agent] = await Promise.all([api(login.cookies), agentRefresh(login.cookies, login.csrf)]);
    expect([proxied.status, agent.status]).toEqual([200, 204]);
    expect(tokensAfter(login.cookies, proxied).accessToken).toBe(tokensAfter(login.cookies, agent).accessToken);
    expect(await grants()).toBe(1);
  });
});

describe('the build holds no copy of lib/ outside lib/dist', () => {
  /** Every JavaScript file under `dir` (source maps aside). */
  const scripts = (dir: string) => (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /\.m?js$/.test(f)).map((f) => join(dir, f));
  // String literals of lib/ modules that hold process state; minifiers keep string literals.
  // Strings that stand in exactly one source module of lib/ (a second copy of that module would repeat them).
  const MARKERS = ['token_refresh_reused', 'next-token-handler: ${err.message}', 'token_refresh_deferred'];

  it('Next\'s server output and dist/server.mjs import @next-token-handler/lib instead of bundling it', () => {
    const outputs = [...scripts(join(ROOT, '.next/server')), join(ROOT, 'dist/server.mjs')];
    const bundling = outputs.filter((f) => MARKERS.some((m) => readFileSync(f, 'utf8').includes(m)));
    expect(bundling).toEqual([]);
    const importing = outputs.filter((f) => readFileSync(f, 'utf8').includes('@next-token-handler/lib/'));
    // The Node entry, proxy.ts, instrumentation.ts and the agent and readiness routes.
    expect(importing).toContain(join(ROOT, 'dist/server.mjs'));
    expect(importing.length).toBeGreaterThan(3);
  });

  it('app/, proxy.ts, instrumentation.ts and server/ reach lib/ only through the package, and Next never bundles it', () => {
    const sources = ['proxy.ts', 'instrumentation.ts', ...['app', 'server'].flatMap((d) =>
      (readdirSync(join(ROOT, d), { recursive: true }) as string[]).filter((f) => /\.(ts|mjs)$/.test(f) && !f.endsWith('.test.ts')).map((f) => `${d}/${f}`))];
    for (const file of sources) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(text, file).not.toMatch(/from '(?:\.{1,2}\/)+lib\/|from '@\/lib\/|import\('(?:\.{1,2}\/)+lib\//);
      // Outside server/ (bundled by esbuild with packages external), every import of lib/ is a run-time
      // import that Turbopack and webpack leave alone.
      if (!file.startsWith('server/')) {
        for (const m of text.matchAll(/import\(([^)]*)'@next-token-handler\/lib\//g)) expect(m[1], file).toMatch(/turbopackIgnore: true/);
        expect(text, file).not.toMatch(/^import (?!type )[^;]*'@next-token-handler\/lib\//m);
      }
    }
  });

  it('lib/dist holds each marker exactly once (one module per source file, shared chunks)', () => {
    const files = scripts(join(ROOT, 'lib/dist'));
    for (const marker of MARKERS) {
      expect(files.filter((f) => readFileSync(f, 'utf8').includes(marker)), marker).toHaveLength(1);
    }
  });
});
