// In-process tier: private_key_jwt (RFC 7523, OIDC Core §9) with RSA, EC and Ed25519 client keys.
// The scripted identity server verifies every client assertion's signature with the registered
// public key, at the token endpoint (code and refresh) and at the revocation endpoint.
import { createPrivateKey } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../config';
import { TEST_ENV } from '../testing/agent-test-kit';
import { createClientKeyPair, type ClientKeyType } from '../testing/scripted-idp-crypto';
import { ScriptedIdentityServer } from '../testing/scripted-identity-server';
import { buildAuthorizationRequest } from './authorization-request';
import { useBackChannelFetch } from './oidc-configuration';
import { redeemAuthorizationCode, refreshAccessToken, revokeRefreshToken } from './token-requests';

let idp: ScriptedIdentityServer;
beforeEach(async () => {
  idp = await ScriptedIdentityServer.start(TEST_ENV.OIDC_ISSUER);
  useBackChannelFetch(idp.fetch);
});

function configFor(clientId: string, privateKey: string): Config['oidc'] {
  const env = { ...TEST_ENV, OIDC_CLIENT_ID: clientId, OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: privateKey };
  delete (env as Record<string, string | undefined>).OIDC_CLIENT_SECRET;
  return loadConfig(env).oidc;
}

async function logIn(oidc: Config['oidc']) {
  const { url, transaction } = await buildAuthorizationRequest(oidc, {});
  const pageUrl = new URL(idp.authorize(url));
  return redeemAuthorizationCode(oidc, pageUrl.searchParams, transaction);
}

describe.each([
  ['rsa', 'RS256'], ['ec', 'ES256'], ['ed25519', 'EdDSA'],
] as Array<[ClientKeyType, string]>)('private_key_jwt with an %s key (%s)', (type, alg) => {
  it('authenticates the code redemption, the refresh and the revocation with assertions the IdP verifies', async () => {
    const { privatePem, publicJwk } = createClientKeyPair(type);
    const clientId = `bff-${type}`;
    const oidc = configFor(clientId, privatePem);
    idp.clients.set(clientId, { publicJwk, redirectUris: [oidc.redirectUri] });

    const tokens = await logIn(oidc);
    expect(tokens.refreshToken).toBeTruthy();
    const refreshed = await refreshAccessToken(oidc, tokens.refreshToken!, tokens.idToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(await revokeRefreshToken(oidc, refreshed.refreshToken!)).toBe(true);
    expect(idp.revoked).toEqual([refreshed.refreshToken]);
    expect(idp.tokenCalls).toEqual([
      { grantType: 'authorization_code', clientId, authMethod: 'private_key_jwt', assertionAlg: alg },
      { grantType: 'refresh_token', clientId, authMethod: 'private_key_jwt', assertionAlg: alg },
    ]);
  });

  it('an assertion signed by another key than the registered one is refused: authorization_error', async () => {
    const registered = createClientKeyPair(type);
    const other = createClientKeyPair(type);
    const clientId = `bff-${type}-rotated`;
    const oidc = configFor(clientId, other.privatePem);
    idp.clients.set(clientId, { publicJwk: registered.publicJwk, redirectUris: [oidc.redirectUri] });
    await expect(logIn(oidc)).rejects.toMatchObject({ code: 'authorization_error', status: 400 });
    expect(idp.tokenCalls).toEqual([]);
  });
});

it('a private key given as a JWK (OIDC_CLIENT_PRIVATE_KEY={...}) signs with the algorithm of its type', async () => {
  const { privatePem, publicJwk } = createClientKeyPair('ec');
  const privateJwk = JSON.stringify(createPrivateKey(privatePem).export({ format: 'jwk' }));
  const oidc = configFor('bff-jwk', privateJwk);
  idp.clients.set('bff-jwk', { publicJwk, redirectUris: [oidc.redirectUri] });
  await logIn(oidc);
  expect(idp.tokenCalls[0]).toMatchObject({ authMethod: 'private_key_jwt', assertionAlg: 'ES256' });
});

it('an Ed25519 private JWK without alg (kty OKP) is accepted and signs as EdDSA', async () => {
  const { privatePem, publicJwk } = createClientKeyPair('ed25519');
  const privateJwk = JSON.stringify(createPrivateKey(privatePem).export({ format: 'jwk' }));
  const oidc = configFor('bff-okp', privateJwk);
  idp.clients.set('bff-okp', { publicJwk, redirectUris: [oidc.redirectUri] });
  await logIn(oidc);
  expect(idp.tokenCalls[0]).toMatchObject({ authMethod: 'private_key_jwt', assertionAlg: 'EdDSA' });
});
