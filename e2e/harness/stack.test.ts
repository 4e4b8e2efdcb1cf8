import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack';

describe('test stack', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ transports: ['node', 'next'] }); });
  afterAll(async () => { await stack?.close(); });

  it('serves /healthz on both transports, wired to the local identity server', async () => {
    for (const bff of stack.bffs) {
      const r = await fetch(`${bff.origin}/healthz`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'ok' });
    }
    const d = await fetch(`${stack.local.issuer}/.well-known/openid-configuration`);
    expect((await d.json()).issuer).toBe(stack.local.issuer);
  });
});
