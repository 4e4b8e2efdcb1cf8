// On both transports: against an identity server that does not rotate refresh tokens (many
// do not), every refresh is a real grant that yields a working access token. Before the fix the first
// refresh's tokens were kept as a "successor" for REFRESH_GRACE_SECONDS, so every later request in the
// window was "refreshed" to that same, by then expired, access token and the API answered 401.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import type { RunningBff, Transport } from '../harness/start-bff';
import { idpEvents, openSession, refreshGrants } from './agent-test-helpers';

const TOKEN_SECONDS = 3;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    transports: ['node', 'next'], accessTokenTtl: TOKEN_SECONDS, rotateRefreshTokens: false,
    bffEnv: { REFRESH_MARGIN_SECONDS: '0', REFRESH_GRACE_SECONDS: '60' },
  });
}, 120_000);
afterAll(async () => { await stack?.close(); });

/** Waits until the BFF's whole-second clock has passed the access token's expiry. */
async function untilExpired(bff: RunningBff, cookies: string): Promise<void> {
  const expiresAt = openSession(bff, cookies)!.accessTokenExpiresAt;
  while (Date.now() / 1000 <= expiresAt + 0.2) await new Promise((r) => setTimeout(r, 100));
}

const refreshCount = async () => refreshGrants(await idpEvents(stack.local.issuer)).length;

describe.each(['node', 'next'] as Transport[])('a non-rotating identity server (%s transport)', (transport) => {
  it('each expiry is a new grant with a working token, never the first refresh replayed', async () => {
    const bff = stack.bff(transport);
    const login = await loginThroughBff(bff, 'nora');
    let cookies = login.cookies;
    const firstRefreshToken = openSession(bff, cookies)!.refreshToken;
    const before = await refreshCount();
    for (let round = 1; round <= 2; round += 1) {
      await untilExpired(bff, cookies);
      const res = await fetch(`${bff.origin}/api/whoami`, { headers: browserHeaders(bff, cookies) });
      expect(res.status, `round ${round}`).toBe(200);
      cookies = applySetCookies(cookies, res.headers.getSetCookie());
      const session = openSession(bff, cookies)!;
      expect(session.accessTokenExpiresAt).toBeGreaterThan(Date.now() / 1000);
      expect(session.refreshToken).toBe(firstRefreshToken); // the identity server kept it
      expect(await refreshCount() - before).toBe(round);
    }
  });
});
