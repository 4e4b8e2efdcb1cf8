// The confidential client's authentication at the token and revocation endpoints (RFC 6749 §2.3,
// OIDC Core §9), chosen by OIDC_TOKEN_AUTH_METHOD. Only lib/oidc imports openid-client and jose.
import { createPrivateKey } from 'node:crypto';
import * as client from 'openid-client';
import { importJWK, importPKCS8, type JWK } from 'jose';
import type { Config } from '../config';

/** RFC 7523 §2.2 / OIDC Core §9 private_key_jwt: the signing algorithm follows the key's type. */
function algorithmFor(type: string | undefined, curve: string | undefined): string {
  if (type === 'rsa') return 'RS256';
  if (type === 'ec') return curve === 'P-384' ? 'ES384' : curve === 'P-521' ? 'ES512' : 'ES256';
  if (type === 'ed25519' || (type === 'okp' && curve === 'Ed25519')) return 'EdDSA';
  throw new Error(`OIDC_CLIENT_PRIVATE_KEY has an unsupported key type ${type ?? 'unknown'}`);
}

async function importPrivateKey(raw: string): Promise<client.PrivateKey & { alg?: string }> {
  if (raw.trim().startsWith('{')) {
    const jwk = JSON.parse(raw) as JWK;
    const alg = jwk.alg ?? algorithmFor(jwk.kty?.toLowerCase(), jwk.crv);
    const key = await importJWK(jwk, alg);
    if (key instanceof Uint8Array) throw new Error('OIDC_CLIENT_PRIVATE_KEY must be an asymmetric private key');
    return { key, kid: jwk.kid, alg };
  }
  // PKCS#1 / SEC1 PEMs are normalised to PKCS#8, the one form WebCrypto imports.
  const keyObject = createPrivateKey(raw.replace(/\\n/g, '\n'));
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'pem' }).toString();
  const alg = algorithmFor(keyObject.asymmetricKeyType, keyObject.asymmetricKeyDetails?.namedCurve === 'prime256v1'
    ? 'P-256' : keyObject.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384'
      : keyObject.asymmetricKeyDetails?.namedCurve === 'secp521r1' ? 'P-521' : undefined);
  return { key: await importPKCS8(pkcs8, alg) };
}

export async function createClientAuthentication(oidc: Config['oidc']): Promise<client.ClientAuth> {
  switch (oidc.tokenAuthMethod) {
    case 'client_secret_post': return client.ClientSecretPost(oidc.clientSecret);
    case 'private_key_jwt': {
      const key = await importPrivateKey(oidc.clientPrivateKey ?? '');
      // RFC 8037 §3.1: an Ed25519 assertion says `alg: EdDSA`, what identity servers accept; openid-client
      // writes RFC 9864's newer `Ed25519`, which one that advertises only EdDSA refuses.
      return client.PrivateKeyJwt(key, key.key.algorithm.name === 'Ed25519' && key.alg !== 'Ed25519'
        ? { [client.modifyAssertion]: (header) => { header.alg = 'EdDSA'; } } : undefined);
    }
    default: return client.ClientSecretBasic(oidc.clientSecret);
  }
}
