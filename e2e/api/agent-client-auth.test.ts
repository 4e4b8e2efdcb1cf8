// OIDC_TOKEN_AUTH_METHOD: the identity server's witness shows how the BFF authenticated at the token
// and revocation endpoints (oidc-provider itself accepts basic and post interchangeably).
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
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

  // RFC 7523 §2.2: every key type the README lists, as PEM and as JWK, with and without `alg`.
  const KEYS: Array<[string, () => KeyObject, string | undefined, 'pem' | 'jwk']> = [
    ['RSA PEM', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, undefined, 'pem'],
    ['RSA JWK with alg PS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'PS256', 'jwk'],
    ['EC P-256 PEM', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, undefined, 'pem'],
    ['EC P-256 JWK with alg ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256', 'jwk'],
    ['Ed25519 JWK without alg', () => generateKeyPairSync('ed25519').privateKey, undefined, 'jwk'],
    ['Ed25519 PEM', () => generateKeyPairSync('ed25519').privateKey, undefined, 'pem'],
  ];

  it.each(KEYS)('private_key_jwt with OIDC_CLIENT_PRIVATE_KEY as %s logs in and refreshes', async (_name, make, alg, format) => {
    const privateKey = make();
    const publicJwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid: 'bff-1', use: 'sig', ...(alg ? { alg } : {}) };
    const key = format === 'pem'
      ? privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
      : JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'bff-1', ...(alg ? { alg } : {}) });
    stack = await startStack({
      transports: ['node'], clientAuthMethod: 'private_key_jwt', clientJwks: { keys: [publicJwk as never] },
      bffEnv: { OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: key },
    });
    const grants = (await loginAndRefresh(stack)).filter((e) => e.type === 'grant.success');
    expect(grants.map((e) => e.grantType)).toEqual(['authorization_code', 'refresh_token']);
    for (const e of grants) expect(e.clientAuthMethod).toBe('private_key_jwt');
  });
});
