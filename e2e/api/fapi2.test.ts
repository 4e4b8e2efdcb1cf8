// README "FAPI 2.0-style configuration": private_key_jwt + PAR (always) + DPoP + PKCE +
// RFC 9207 `iss`, against the local identity server in oidc-provider's FAPI 2.0 profile (PAR
// required, DPoP-bound access tokens required for the client, ES256 ID tokens). Logs in and calls
// the sample API on both transports.
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import type { Transport } from '../harness/start-bff';
import { callAgent, idpEvents, openSession } from './agent-test-helpers';

const TRANSPORTS: Transport[] = ['node', 'next'];

describe('FAPI 2.0-style configuration end to end', () => {
  let stack: Stack;
  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'bff-fapi', alg: 'ES256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'bff-fapi', alg: 'ES256' };
    stack = await startStack({
      transports: TRANSPORTS, fapi2: true, clientAuthMethod: 'private_key_jwt', clientJwks: { keys: [publicJwk] },
      bffEnv: {
        OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: JSON.stringify(privateJwk),
        OIDC_PAR: 'always', OIDC_DPOP: 'true',
      },
    });
  }, 120_000);
  afterAll(async () => { await stack?.close(); });

  it('the identity server is in a FAPI 2.0 profile: PAR required, iss in responses', async () => {
    const metadata = await (await fetch(`${stack.local.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(metadata.require_pushed_authorization_requests).toBe(true);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.dpop_signing_alg_values_supported).toContain('ES256');
    // A classic (front-channel) authorization request is refused: only pushed ones are accepted.
    const classic = new URL(String(metadata.authorization_endpoint));
    for (const [k, v] of Object.entries({
      client_id: 'demo-bff', response_type: 'code', scope: 'openid', redirect_uri: `${stack.bffs[0]!.origin}/`,
      state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    })) classic.searchParams.set(k, v);
    const refused = await fetch(classic, { redirect: 'manual' });
    expect(refused.status).toBe(303);
    const back = new URL(refused.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/pushed authorization request/i);
  });

  it.each(TRANSPORTS)('%s: logs in (PAR, private_key_jwt, DPoP-bound tokens) and calls the API and UserInfo', async (transport) => {
    const bff = stack.bff(transport);
    const start = await fetch(`${bff.origin}/oauth-agent/login/start`, { method: 'POST', headers: browserHeaders(bff) });
    const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
    expect([...new URL(authorizationRequestUrl).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);

    stack.local.identity.clearEvents();
    const login = await loginThroughBff(bff, `fapi-${transport}`);
    const session = openSession(bff, login.cookies)!;
    expect(session.dpopKey).toBeDefined();
    const grants = (await idpEvents(stack.local.issuer) as Array<{ type: string; grantType?: string; clientAuthMethod?: string }>)
      .filter((e) => e.type === 'grant.success');
    expect(grants.map((e) => [e.grantType, e.clientAuthMethod])).toEqual([['authorization_code', 'private_key_jwt']]);

    const r = await fetch(`${bff.origin}/api/whoami`, { headers: browserHeaders(bff, login.cookies) });
    expect(r.status).toBe(200);
    expect((await r.json() as { sub: string }).sub).toBe(`fapi-${transport}`);
    expect((await callAgent(bff, 'userInfo', { cookies: login.cookies })).status).toBe(200);
    expect((await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf })).status).toBe(204);
  });
});
