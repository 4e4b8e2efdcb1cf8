// The scripted identity server's cryptography (test support only, never imported by app code):
// its signing key and JWKS, signed ID tokens, and verification of private_key_jwt client assertions
// (RFC 7523 §3) against a client's registered public key. The one module of lib/testing importing jose.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

let shared: Promise<SigningKey> | undefined;

/** One RSA signing key per test process (generating one takes ~100 ms; each test starts a fresh IdP). */
export function createSigningKey(): Promise<SigningKey> {
  return (shared ??= generateSigningKey());
}

async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  return { kid, alg: 'RS256', privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export async function signIdToken(key: SigningKey, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
}

export type ClientKeyType = 'rsa' | 'ec' | 'ed25519';

/** A client key pair as an operator would configure it: the private key as PKCS#8 PEM, the public key as a JWK for the IdP. */
export function createClientKeyPair(type: ClientKeyType): { privatePem: string; publicJwk: JWK } {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicJwk: pair.publicKey.export({ format: 'jwk' }) as JWK,
  };
}

const ALGORITHMS: Record<string, string> = { RSA: 'RS256', EC: 'ES256', OKP: 'EdDSA' };

/**
 * RFC 7523 §3 / OIDC Core §9: the assertion is signed by the client's key, `iss` and `sub` are the
 * client id, `aud` names this issuer (or its token endpoint), `exp` is in the future, `jti` present.
 * Returns the algorithm that signed it; throws when any check fails.
 */
export async function verifyClientAssertion(
  assertion: string, publicJwk: JWK, clientId: string, audiences: string[],
): Promise<{ alg: string; jti: string }> {
  const expectedAlg = ALGORITHMS[publicJwk.kty ?? ''];
  if (!expectedAlg) throw new Error(`unsupported client key type ${publicJwk.kty}`);
  const key = await importJWK(publicJwk, expectedAlg);
  const { payload, protectedHeader } = await jwtVerify(assertion, key, {
    issuer: clientId, subject: clientId, audience: audiences, algorithms: [expectedAlg], requiredClaims: ['exp', 'jti'],
  });
  return { alg: protectedHeader.alg, jti: String(payload.jti) };
}
