// Graceful shutdown of the Node server entry: SIGTERM lets an in-flight /api request finish, refuses
// new connections, and exits 0 (what a container orchestrator's rolling update relies on).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rawRequest } from '../harness/http-request';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';

let stack: Stack;

/** Polls `check` every 20 ms until it holds (a bounded wait on observable state, never a sleep). */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
  }
}
beforeAll(async () => { stack = await startStack({ transports: ['node'] }); }, 120_000);
afterAll(async () => { await stack?.close(); });

it('SIGTERM while /api/slow?ms=1500 is in flight: it completes with 200, new connections are refused, the process exits 0', async () => {
  const bff = stack.bff('node');
  const login = await loginThroughBff(bff, 'alice');
  const started = Date.now();
  const inFlight = rawRequest(bff.origin, '/api/slow?ms=1500', { headers: browserHeaders(bff, login.cookies), timeoutMs: 10_000 });
  // The sample API records a request on arrival (its canary log): then it is in flight upstream.
  await until('the upstream has the request', async () =>
    ((await (await fetch(`${stack.local.apiUrl}/__log`)).json()) as Array<{ path: string }>).some((e) => e.path.endsWith('/slow')));
  const exited = bff.stop('SIGTERM');
  // The entry logs server_stopping in the same tick as it stops listening.
  await until('the server logged server_stopping', () => bff.logs.some((l) => l.includes('"event":"server_stopping"')));
  // A new connection (agent: false) after the signal is refused.
  await expect(rawRequest(bff.origin, '/healthz', { timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  const res = await inFlight;
  expect(res.status).toBe(200);
  expect(res.json()).toEqual({ slept: 1500 });
  expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  expect(await exited).toBe(0);
  expect(bff.logs.some((l) => l.includes('"event":"server_stopping"'))).toBe(true);
});
