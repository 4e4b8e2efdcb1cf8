// Contract §7 with a store, end to end: two BFF instances (two Node ones, then a Node one and a
// `next start`) share one real redis-server and one PUBLIC_ORIGIN, as behind a load balancer. A logout
// at the real identity server (end-session, whose back-channel logout call reaches instance A only)
// ends the session on B too within 1 s; a POST /oauth-agent/logout on one instance makes the same
// cookies fail on the other, on the agent and on /api. Requests go to each instance's own port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port';
import { delta, scrape } from '../harness/prometheus-text';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startRedis, type RunningRedis } from '../harness/redis-server';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { CookieJar as IdpCookieJar, logoutAtIdentityServer } from '../servers/drive-login';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';
import { clearedNames, CSRF_HEADER, SESSION_COOKIES } from '../api/agent-test-helpers';

describe.each([
  ['node', 'node'],
  ['node', 'next'],
] as Array<[Transport, Transport]>)('two instances sharing a store: %s (receives back-channel logout) + %s', (first, second) => {
  let redis: RunningRedis;
  let local: LocalStack;
  const bffs: RunningBff[] = [];
  let publicOrigin: string;
  let metricsA: string;

  beforeAll(async () => {
    redis = await startRedis();
    const ports = [await freePort(), await freePort()];
    publicOrigin = `http://localhost:${ports[0]}`;
    // The identity server knows one origin: its back-channel logout calls reach instance A only.
    local = await startLocalStack({ idpPort: 0, apiPort: 0, bffOrigins: [publicOrigin] });
    const cookieKeys = randomCookieKey();
    const metricsPort = await freePort();
    metricsA = `http://127.0.0.1:${metricsPort}/metrics`;
    for (const [i, transport] of [first, second].entries()) {
      bffs.push(await startBff({
        transport, port: ports[i]!, issuer: local.issuer, apiRoutes: `/api=${local.apiUrl}`, cookieKeys,
        env: { PUBLIC_ORIGIN: publicOrigin, SESSION_STORE_URL: redis.url, LOG_LEVEL: 'info', ...(i === 0 ? { METRICS_PORT: String(metricsPort) } : {}) },
      }));
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.all(bffs.map((b) => b.stop()));
    await local?.close();
    await redis?.stop();
  });

  /** The site as the browser sees it (PUBLIC_ORIGIN), for the login helpers: that is instance A. */
  const site = (): RunningBff => ({ ...bffs[0]!, origin: publicOrigin });
  const at = (i: number, path: string) => `http://localhost:${bffs[i]!.port}${path}`;

  async function sessionOn(i: number, cookies: string) {
    const res = await fetch(at(i, '/oauth-agent/session'), { headers: browserHeaders(site(), cookies) });
    return { status: res.status, body: await res.json() as { code?: string; isLoggedIn?: boolean }, cleared: clearedNames(res.headers.getSetCookie()) };
  }
  async function apiOn(i: number, cookies: string) {
    const res = await fetch(at(i, '/api/data/who'), { headers: browserHeaders(site(), cookies) });
    return { status: res.status, body: await res.json() as { code?: string }, cleared: clearedNames(res.headers.getSetCookie()) };
  }
  const refused = (r: { status: number; body: { code?: string } }) => r.status === 401 && r.body.code === 'session_expired';

  /** Polls (bounded) until both the agent and /api of instance `i` refuse the session; ms taken, or -1. */
  async function untilRefused(i: number, cookies: string, boundMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started <= boundMs) {
      if (refused(await sessionOn(i, cookies)) && refused(await apiOn(i, cookies))) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 20));
    }
    return -1;
  }

  it('a logout at the identity server (back-channel logout to A only) ends the session on B within 1 s', async () => {
    const idpJar = new IdpCookieJar();
    const login = await loginThroughBff(site(), 'dora', { idpJar });
    for (const i of [0, 1]) {
      expect((await sessionOn(i, login.cookies)).body.isLoggedIn).toBe(true);
      expect((await apiOn(i, login.cookies)).status).toBe(200);
    }
    const discovery = await (await fetch(`${local.issuer}/.well-known/openid-configuration`)).json() as { end_session_endpoint: string };
    const before = (await scrape(metricsA)).samples;
    await logoutAtIdentityServer(discovery.end_session_endpoint, idpJar);
    // A heard it from the identity server; B only through the store.
    const onA = await untilRefused(0, login.cookies, 5000);
    expect(onA).toBeGreaterThanOrEqual(0);
    const onB = await untilRefused(1, login.cookies, 1000);
    console.log(`${first}+${second}: refused on A after ${onA} ms, then on B after ${onB} ms more`);
    expect(onB).toBeGreaterThanOrEqual(0);
    const ended = await sessionOn(1, login.cookies);
    expect(ended.cleared.sort()).toEqual([...SESSION_COOKIES].sort());
    expect((await apiOn(1, login.cookies)).cleared.sort()).toEqual([...SESSION_COOKIES].sort());
    const after = (await scrape(metricsA)).samples;
    expect(delta(before, after, 'nth_backchannel_logouts_total{result="accepted"}')).toBe(1);
    expect(delta(before, after, 'nth_store_errors_total')).toBe(0);
  });

  it('a forged logout token is counted as rejected and ends nothing', async () => {
    const before = (await scrape(metricsA)).samples;
    const res = await fetch(at(0, '/oauth-agent/backchannel-logout'), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logout_token=not.a.jwt',
    });
    expect(res.status).toBe(400);
    expect(delta(before, (await scrape(metricsA)).samples, 'nth_backchannel_logouts_total{result="rejected"}')).toBe(1);
  });

  for (const [from, to] of [[0, 1], [1, 0]] as const) {
    it(`POST /oauth-agent/logout on instance ${from ? 'B' : 'A'}: the same cookies replayed on ${to ? 'B' : 'A'} are refused (agent and /api)`, async () => {
      const login = await loginThroughBff(site(), 'erin');
      const other = await loginThroughBff(site(), 'erin');
      expect((await apiOn(to, login.cookies)).status).toBe(200);
      const res = await fetch(at(from, '/oauth-agent/logout'), { method: 'POST', headers: browserHeaders(site(), login.cookies, { [CSRF_HEADER]: login.csrf }) });
      expect(res.status).toBe(200);
      const ms = await untilRefused(to, login.cookies, 1000);
      console.log(`${first}+${second}: logout on ${from ? 'B' : 'A'} refused on ${to ? 'B' : 'A'} after ${ms} ms`);
      expect(ms).toBeGreaterThanOrEqual(0);
      // Only that session: another of the same user goes on.
      expect((await sessionOn(to, other.cookies)).body.isLoggedIn).toBe(true);
      expect((await apiOn(to, other.cookies)).status).toBe(200);
    });
  }

  it('the store holds the revocations only under keyed-hash names, sealed', async () => {
    const entries = (await redis.dump()).filter((e) => e.key.startsWith('nth:deny:') || e.key.startsWith('nth:jti:'));
    expect(entries.length).toBeGreaterThanOrEqual(4); // the back-channel logout, its jti, two logouts
    for (const { key, value } of entries) {
      expect(key).toMatch(/^nth:[a-z]+:[A-Za-z0-9_-]{43}$/);
      for (const plain of ['dora', 'erin', 'idp-session', '"sid"', local.issuer]) expect(value).not.toContain(plain);
    }
  });
});
