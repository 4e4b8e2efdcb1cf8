// Contract §6 "Store outages degrade, never break", on both transports: a BFF whose store is down at
// start-up starts, logs in, refreshes and proxies per process; /readyz stays 200 and says
// "unavailable"; when the store appears it reconnects by itself ("ok"), logging each change once.
// Without SESSION_STORE_URL /readyz says "none".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { freePort } from '../harness/free-port';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startRedis, type RunningRedis } from '../harness/redis-server';
import { startStack, type Stack } from '../harness/stack';
import type { Transport } from '../harness/start-bff';
import { callAgent } from '../api/agent-test-helpers';

let stack: Stack;
let plain: Stack;
let storePort: number;
let redis: RunningRedis | undefined;

beforeAll(async () => {
  storePort = await freePort();
  stack = await startStack({ transports: ['node', 'next'], bffEnv: { SESSION_STORE_URL: `redis://:s3cret-pass@127.0.0.1:${storePort}/0` } });
  plain = await startStack({ transports: ['node'] });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await plain?.close();
  await redis?.stop();
});

const readyz = async (origin: string) => {
  const res = await fetch(`${origin}/readyz`);
  return { status: res.status, body: await res.json() as { status: string; store: string } };
};
const events = (logs: string[], name: string) => logs.filter((l) => l.includes(`"event":"${name}"`));

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a session store that is down, then comes up', () => {
  it.each(['node', 'next'] as Transport[])('%s: serves per process while it is down; /readyz 200 "unavailable"; the password is never logged', async (transport) => {
    const bff = stack.bff(transport);
    expect(await readyz(bff.origin)).toEqual({ status: 200, body: { status: 'ready', store: 'unavailable' } });
    const login = await loginThroughBff(bff, `olga-${transport}`);
    const refresh = await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(refresh.status).toBe(204);
    const cookies = applySetCookies(login.cookies, refresh.headers.getSetCookie());
    const api = await fetch(`${bff.origin}/api/whoami`, { headers: browserHeaders(bff, cookies) });
    expect(api.status).toBe(200);
    await until(() => events(bff.logs, 'store_unavailable').length > 0, 'store_unavailable');
    expect(bff.logs.join('\n')).not.toContain('s3cret-pass');
  });

  it('reconnects by itself when the store appears: /readyz "ok", store_recovered logged, each change once per connection', async () => {
    redis = await startRedis({ port: storePort, password: 's3cret-pass' });
    for (const bff of stack.bffs) {
      await until(async () => (await readyz(bff.origin)).body.store === 'ok', `${bff.transport} to reconnect`);
      expect(events(bff.logs, 'store_recovered').length).toBeGreaterThanOrEqual(1);
      // One line per connection and change of state, not per attempt (lib/ may still load twice per process).
      expect(events(bff.logs, 'store_unavailable').length).toBeLessThanOrEqual(3);
    }
    const bff = stack.bff('node');
    const login = await loginThroughBff(bff, 'otto');
    expect((await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf })).status).toBe(204);
    expect((await redis.dump()).length).toBeGreaterThan(0); // the refresh went through the store
  });

  it('without SESSION_STORE_URL /readyz reports "none"', async () => {
    expect(await readyz(plain.bff('node').origin)).toEqual({ status: 200, body: { status: 'ready', store: 'none' } });
  });
});
