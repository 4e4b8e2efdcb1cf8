// Contract §2: identity server unreachable, timing out or failing → 502 authorization_server_error,
// cookies untouched; logout still clears the session (revocation is best effort).
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port';
import { loginThroughBff, type LoginResult } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import { startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { callAgent, clearedNames, SESSION_COOKIES } from './agent-test-helpers';

const TRANSPORTS: Transport[] = ['node', 'next'];

describe('identity server down after login', () => {
  let stack: Stack;
  const logins = new Map<Transport, LoginResult>();
  beforeAll(async () => {
    stack = await startStack({ transports: TRANSPORTS });
    for (const t of TRANSPORTS) logins.set(t, await loginThroughBff(stack.bff(t), 'alice'));
    await stack.local.identity.close();
  });
  afterAll(async () => { await stack?.close(); });

  it.each(TRANSPORTS)('refresh and userInfo → 502 authorization_server_error, no cookie touched (%s)', async (t) => {
    const { cookies, csrf } = logins.get(t)!;
    for (const path of ['refresh', 'userInfo']) {
      const res = await callAgent(stack.bff(t), path, { cookies, csrf });
      expect(res.status).toBe(502);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const text = await res.text();
      expect(JSON.parse(text).code).toBe('authorization_server_error');
      expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|fetch failed/);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it.each(TRANSPORTS)('logout still answers 200 and clears every cookie (%s)', async (t) => {
    const { cookies, csrf } = logins.get(t)!;
    const res = await callAgent(stack.bff(t), 'logout', { cookies, csrf });
    expect(res.status).toBe(200);
    expect(clearedNames(res.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());
  });
});

describe('identity server unreachable or hanging from the start', () => {
  let hanging: Server;
  const bffs: RunningBff[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: only the back-channel timeout ends the wait.
    hanging = createServer(() => { /* silence */ });
    const hangPort = await freePort();
    await new Promise<void>((r) => hanging.listen(hangPort, '127.0.0.1', () => r()));
    const deadPort = await freePort();
    for (const [transport, issuer] of [['node', `http://127.0.0.1:${deadPort}`], ['next', `http://127.0.0.1:${hangPort}`]] as const) {
      bffs.push(await startBff({ transport, port: await freePort(), issuer, apiRoutes: '/api=http://127.0.0.1:9' }));
    }
  });
  afterAll(async () => {
    await Promise.all(bffs.map((b) => b.stop()));
    hanging.close();
  });

  it('login/start → 502 authorization_server_error when nothing listens, and when it hangs (≤ ~10 s)', async () => {
    const results = await Promise.all(bffs.map(async (bff) => {
      const started = Date.now();
      const res = await callAgent(bff, 'login/start');
      return { res, ms: Date.now() - started, body: await res.json() };
    }));
    for (const { res, ms, body } of results) {
      expect(res.status).toBe(502);
      expect(body.code).toBe('authorization_server_error');
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(ms).toBeLessThan(15_000);
    }
  }, 30_000);
});
