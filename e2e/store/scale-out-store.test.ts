// Contract §6 end to end: two Node instances and one `next start` share a real redis-server behind a
// round-robin balancer. A storm of requests of one session with an expired access token, spread over
// all three, makes exactly one refresh-token grant at the (rotating) identity server, and every
// request is answered 200 with the same new tokens; sessions never mix; a rolling restart during
// traffic loses nothing. Witnesses: the identity server's /__test/events, the BFFs' cookies opened
// with their keys, and the store's own contents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { freePort } from '../harness/free-port';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startRedis, type RunningRedis } from '../harness/redis-server';
import { startRoundRobin, type RoundRobin } from '../harness/round-robin';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';
import { idpEvents, openSession, refreshGrants } from '../api/agent-test-helpers';

const TOKEN_SECONDS = 8;
// A 1 s margin: the storm's new token is due only after 7 s, so even on a loaded machine one storm
// is one rotation (a successor that is due is rightly refreshed again).
const MARGIN_SECONDS = '1';
const TRANSPORTS: Transport[] = ['node', 'node', 'next'];

let redis: RunningRedis;
let local: LocalStack;
let front: RoundRobin;
const cookieKeys = randomCookieKey();
let ports: number[] = [];
const bffs: RunningBff[] = [];

const startInstance = (i: number) => startBff({
  transport: TRANSPORTS[i]!, port: ports[i]!, issuer: local.issuer, apiRoutes: `/api=${local.apiUrl}`, cookieKeys,
  env: { PUBLIC_ORIGIN: front.origin, SESSION_STORE_URL: redis.url, REFRESH_GRACE_SECONDS: '60', REFRESH_MARGIN_SECONDS: MARGIN_SECONDS, LOG_LEVEL: 'info' },
});

/** The balancer as a "BFF" for the login helpers: everything the SPA does goes through it. */
const site = (): RunningBff => ({ ...bffs[0]!, origin: front.origin });

beforeAll(async () => {
  redis = await startRedis();
  ports = await Promise.all(TRANSPORTS.map(() => freePort()));
  const frontPort = await freePort();
  local = await startLocalStack({ idpPort: 0, apiPort: 0, accessTokenTtl: TOKEN_SECONDS, bffOrigins: [`http://localhost:${frontPort}`] });
  front = await startRoundRobin(() => ports, frontPort);
  for (const i of TRANSPORTS.keys()) bffs.push(await startInstance(i));
}, 180_000);
afterAll(async () => {
  if (process.env.STORE_TEST_LOGS) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(process.env.STORE_TEST_LOGS, bffs.map((b, i) => b.logs.map((l) => `[${i}] ${l}`).join('\n')).join('\n'));
  }
  await Promise.all(bffs.map((b) => b.stop()));
  await front?.close();
  await local?.close();
  await redis?.stop();
});

async function untilExpired(cookies: string): Promise<void> {
  const expiresAt = openSession(site(), cookies)!.accessTokenExpiresAt;
  while (Date.now() / 1000 <= expiresAt + 0.2) await new Promise((r) => setTimeout(r, 100));
}

const since = async (t: number) => (await idpEvents(local.issuer)).filter((e) => e.at >= t);

async function callApi(cookies: string) {
  const res = await fetch(`${front.origin}/api/whoami`, { headers: browserHeaders(site(), cookies) });
  return { status: res.status, setCookies: res.headers.getSetCookie(), body: await res.json() as { sub?: string; code?: string } };
}

describe('three instances sharing a store behind round-robin', () => {
  it('50 parallel requests of one session with an expired token: 1 grant, all 200 with the same new tokens, no logout; later it refreshes again', async () => {
    const login = await loginThroughBff(site(), 'stella');
    let cookies = login.cookies;
    for (let round = 1; round <= 2; round += 1) {
      await untilExpired(cookies);
      const t0 = Date.now();
      const servedBefore = new Map(front.served);
      const results = await Promise.all(Array.from({ length: 50 }, () => callApi(cookies)));
      expect(results.map((r) => r.status), JSON.stringify(results.filter((r) => r.status !== 200).map((r) => r.body))).toEqual(Array(50).fill(200));
      expect(results.every((r) => r.body.sub === 'stella')).toBe(true);
      for (const p of ports) expect((front.served.get(p) ?? 0) - (servedBefore.get(p) ?? 0), `instance ${p}`).toBeGreaterThan(0);
      const events = await since(t0);
      expect(refreshGrants(events), `round ${round}`).toHaveLength(1);
      expect(events.filter((e) => e.type === 'grant.error' || e.type === 'grant.revoked')).toEqual([]);
      // No logout: nothing cleared, and every response carries the same, new, refresh token.
      expect(results.flatMap((r) => r.setCookies).filter((c) => /Max-Age=0/.test(c))).toEqual([]);
      const refreshTokens = new Set(results.map((r) => openSession(site(), applySetCookies(cookies, r.setCookies))!.refreshToken));
      expect(refreshTokens.size).toBe(1);
      cookies = applySetCookies(cookies, results[0]!.setCookies);
      expect(refreshTokens.has(openSession(site(), login.cookies)!.refreshToken)).toBe(false);
    }
    // The original (generation-1) cookies, after two rotations, still lead to the newest tokens.
    const late = await callApi(login.cookies);
    expect(late.status).toBe(200);
    expect(openSession(site(), applySetCookies(login.cookies, late.setCookies))!.refreshToken).toBe(openSession(site(), cookies)!.refreshToken);
  });

  it('two sessions interleaved in one storm: one grant each, never mixed', async () => {
    const a = await loginThroughBff(site(), 'ann');
    const b = await loginThroughBff(site(), 'ben');
    await untilExpired(b.cookies);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => callApi(i % 2 ? b.cookies : a.cookies)));
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(results.map((r) => r.body.sub)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2 ? 'ben' : 'ann')));
    expect(refreshGrants(await since(t0))).toHaveLength(2);
    for (const [i, r] of results.entries()) {
      const before = i % 2 ? b : a;
      const after = openSession(site(), applySetCookies(before.cookies, r.setCookies))!;
      expect(after.sid).toBe(openSession(site(), before.cookies)!.sid);
    }
  });

  it('nothing readable at rest: no token and no SHA-256 of one in any key or value', async () => {
    const login = await loginThroughBff(site(), 'rita');
    await untilExpired(login.cookies);
    const results = await Promise.all(Array.from({ length: 12 }, () => callApi(login.cookies)));
    const sessions = [login.cookies, ...results.map((r) => applySetCookies(login.cookies, r.setCookies))].map((c) => openSession(site(), c)!);
    const tokens = [...new Set(sessions.flatMap((s) => [s.accessToken, s.refreshToken!, s.idToken!]))];
    const { createHash } = await import('node:crypto');
    const forms = tokens.flatMap((t) => [t, createHash('sha256').update(t).digest('base64url'), createHash('sha256').update(t).digest('hex'), t.slice(20, 60)]);
    const dump = await redis.dump();
    expect(dump.length).toBeGreaterThan(0);
    for (const { key, value } of dump) for (const f of forms) { expect(key).not.toContain(f); expect(value).not.toContain(f); }
  });

  it('a rolling restart during traffic: every request answered 200, one grant per rotation, no reuse', async () => {
    const login = await loginThroughBff(site(), 'rolf');
    let cookies = login.cookies;
    const t0 = Date.now();
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) {
        const batch = await Promise.all(Array.from({ length: 3 }, () => callApi(cookies).catch(() => ({ status: 0, setCookies: [] as string[] }))));
        statuses.push(...batch.map((r) => r.status));
        const changed = batch.find((r) => r.setCookies.length > 0);
        if (changed) cookies = applySetCookies(cookies, changed.setCookies);
        await new Promise((r) => setTimeout(r, 50)); // steady traffic that leaves the restarts some CPU
      }
    })();
    try {
      for (const i of TRANSPORTS.keys()) {
        await bffs[i]!.stop();
        bffs[i] = await startInstance(i);
      }
      await untilExpired(cookies); // at least one more expiry under traffic with every instance restarted
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop = true;
      await traffic;
    }
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const events = await since(t0);
    expect(refreshGrants(events).length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.type === 'grant.error' || e.type === 'grant.revoked')).toEqual([]);
  }, 180_000);

  it('/readyz reports the store', async () => {
    for (const b of bffs) {
      const url = `${b.origin.replace('localhost', '127.0.0.1')}/readyz`;
      // Readiness checks the identity server too (2 s budget): on a loaded machine, poll until ready.
      let last: { status: number; body: unknown } = { status: 0, body: null };
      for (const deadline = Date.now() + 20_000; Date.now() < deadline && last.status !== 200;) {
        const res = await fetch(url);
        last = { status: res.status, body: await res.json() };
        if (res.status !== 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(last).toEqual({ status: 200, body: { status: 'ready', store: 'ok' } });
    }
  });
});
