// OIDC_TOKEN_AUTH_METHOD: the identity server's witness shows how the BFF authenticated at the token
// and revocation endpoints (oidc-provider itself accepts basic and post interchangeably).
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import { callAgent, idpEvents } from './agent-test-helpers';

interface AuthEvent { type: string; grantType?: string; clientAuthMethod?: string }

describe('confidential client authentication (node transport)', () => {
  let stack: Stack | undefined;
  afterEach(async () => { await stack?.close(); stack = undefined; });

  async function loginAndRefresh(s: Stack): Promise<AuthEvent[]> {
    const bff = s.bff('node');
    const login = await loginThroughBff(bff, 'alice');
    expect((await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf })).status).toBe(204);
    return (await idpEvents(s.local.issuer)) as AuthEvent[];
  }

  it('client_secret_post sends the secret in the body', async () => {
    stack = await startStack({ transports: ['node'], clientAuthMethod: 'client_secret_post', bffEnv: { OIDC_TOKEN_AUTH_METHOD: 'client_secret_post' } });
    const grants = (await loginAndRefresh(stack)).filter((e) => e.type === 'grant.success');
    expect(grants.map((e) => e.grantType)).toEqual(['authorization_code', 'refresh_token']);
    for (const e of grants) expect(e.clientAuthMethod).toBe('client_secret_post');
  });

  it('private_key_jwt signs a client assertion with OIDC_CLIENT_PRIVATE_KEY (PEM and JWK)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'bff-1', alg: 'ES256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid: 'bff-1', alg: 'ES256' };
    const { createPrivateKey } = await import('node:crypto');
    const pem = createPrivateKey({ key: privateJwk as never, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const key of [pem, JSON.stringify(privateJwk)]) {
      stack = await startStack({
        transports: ['node'], clientAuthMethod: 'private_key_jwt', clientJwks: { keys: [publicJwk] },
        bffEnv: { OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: key },
      });
      const grants = (await loginAndRefresh(stack)).filter((e) => e.type === 'grant.success');
      expect(grants.map((e) => e.grantType)).toEqual(['authorization_code', 'refresh_token']);
      for (const e of grants) expect(e.clientAuthMethod).toBe('private_key_jwt');
      await stack.close();
      stack = undefined;
    }
  });
});
