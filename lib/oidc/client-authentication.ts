// The confidential client's authentication at the token and revocation endpoints (RFC 6749 §2.3,
// OIDC Core §9), chosen by OIDC_TOKEN_AUTH_METHOD. Only lib/oidc imports openid-client and jose.
import * as client from 'openid-client';
import { importPKCS8 } from 'jose';
import type { ClientPrivateKey } from '../client-private-key';
import type { OidcClientAuthentication } from '../config';

/** RFC 7523 §2.2: the key and algorithm were checked by loadConfig; WebCrypto imports the PKCS#8 form. */
async function importPrivateKey(key: ClientPrivateKey): Promise<client.PrivateKey> {
  return { key: await importPKCS8(key.pkcs8, key.alg), ...(key.kid !== undefined ? { kid: key.kid } : {}) };
}

export async function createClientAuthentication(oidc: OidcClientAuthentication): Promise<client.ClientAuth> {
  switch (oidc.tokenAuthMethod) {
    case 'client_secret_basic': return client.ClientSecretBasic(oidc.clientSecret);
    case 'client_secret_post': return client.ClientSecretPost(oidc.clientSecret);
    case 'private_key_jwt': {
      const key = await importPrivateKey(oidc.clientPrivateKey);
      // RFC 8037 §3.1: an Ed25519 assertion says `alg: EdDSA`, what identity servers accept; openid-client
      // writes RFC 9864's newer `Ed25519`, which one that advertises only EdDSA refuses.
      return client.PrivateKeyJwt(key, key.key.algorithm.name === 'Ed25519' && oidc.clientPrivateKey.alg !== 'Ed25519'
        ? { [client.modifyAssertion]: (header) => { header.alg = 'EdDSA'; } } : undefined);
    }
  }
}
