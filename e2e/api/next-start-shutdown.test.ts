// graceful shutdown under `next start` (the proxy.ts transport). Next handles SIGTERM itself
// (next/dist/server/lib/start-server.js): it stops listening, waits for the requests in flight, then
// exits with 143 (128 + SIGTERM). Unlike the Node server entry there is no deadline, so a stuck
// request holds the process until the orchestrator's SIGKILL (README "Deploy").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserHeaders, loginThroughBff, type LoginResult } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';

let stack: Stack;
let login: LoginResult;
beforeAll(async () => {
  stack = await startStack({ transports: ['next'] });
  login = await loginThroughBff(stack.bff('next'), 'alice');
});
afterAll(async () => { await stack?.close(); });

describe('next start on SIGTERM', () => {
  it('completes a slow upstream request in flight, refuses new connections, exits 143', async () => {
    const bff = stack.bff('next');
    const exited = new Promise<number | null>((r) => bff.process.once('exit', (code) => r(code)));
    const slow = fetch(`${bff.origin}/api/slow?ms=2000`, { headers: browserHeaders(bff, login.cookies) });
    // Let the request reach the upstream before the signal.
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const seen = await (await fetch(`${stack.local.apiUrl}/__log`)).json() as Array<{ path: string }>;
      if (seen.some((e) => e.path.endsWith('/slow'))) break;
    }
    const signalled = Date.now();
    bff.process.kill('SIGTERM');
    let slowSettled = false;
    void slow.finally(() => { slowSettled = true; });
    // Polls until a new connection is refused (Next stops listening on the signal), without a sleep.
    let refused = false;
    for (const deadline = Date.now() + 5_000; !refused && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      refused = await fetch(`${bff.origin}/healthz`, { headers: { connection: 'close' } }).then(() => false, () => true);
    }
    expect(refused).toBe(true);
    expect(slowSettled).toBe(false); // refused while the slow request was still in flight

    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ slept: 2000 });
    expect(await exited).toBe(143);
    expect(Date.now() - signalled).toBeGreaterThan(1_000);
  });
});
