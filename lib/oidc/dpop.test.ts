import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { createDpopProof, dpopKeyThumbprint, dpopNonceFor, generateDpopKey, isDpopNonceChallenge, rememberDpopNonce } from './dpop';

describe('DPoP proofs (RFC 9449 §4.2)', () => {
  it('signs a proof that verifies with the public key in its header, with htm, htu without query, iat, jti and ath', async () => {
    const key = generateDpopKey();
    const proof = createDpopProof(key, { method: 'post', url: new URL('https://api.example/v1/orders?x=1#frag'), accessToken: 'tok' }, 1_700_000_000);
    const header = decodeProtectedHeader(proof);
    expect(header.typ).toBe('dpop+jwt');
    expect(header.alg).toBe('ES256');
    expect((header.jwk as JWK).d).toBeUndefined();
    const { payload } = await jwtVerify(proof, await importJWK(header.jwk as JWK, 'ES256'), { typ: 'dpop+jwt', currentDate: new Date(1_700_000_000_000) });
    expect(payload.htm).toBe('POST');
    expect(payload.htu).toBe('https://api.example/v1/orders');
    expect(payload.iat).toBe(1_700_000_000);
    expect(payload.ath).toBe(createHash('sha256').update('tok').digest('base64url'));
    expect(typeof payload.jti).toBe('string');
    expect(payload.nonce).toBeUndefined();
    expect(dpopKeyThumbprint(key)).toBe(await calculateJwkThumbprint(header.jwk as JWK, 'sha256'));
  });

  it('makes a new jti every time and different keys per session', () => {
    const key = generateDpopKey();
    const url = new URL('https://api.example/x');
    const jti = (p: string) => JSON.parse(Buffer.from(p.split('.')[1]!, 'base64url').toString()).jti;
    expect(jti(createDpopProof(key, { method: 'GET', url }))).not.toBe(jti(createDpopProof(key, { method: 'GET', url })));
    expect(dpopKeyThumbprint(generateDpopKey())).not.toBe(dpopKeyThumbprint(key));
  });

  it('remembers the latest valid nonce per origin and recognises a use_dpop_nonce challenge', () => {
    rememberDpopNonce('https://n1.example', 'abc');
    rememberDpopNonce('https://n1.example', 'def');
    rememberDpopNonce('https://n1.example', 'bad"nonce');
    expect(dpopNonceFor('https://n1.example')).toBe('def');
    expect(dpopNonceFor('https://n2.example')).toBeUndefined();
    expect(isDpopNonceChallenge(401, 'DPoP error="use_dpop_nonce", error_description="x"', 'n')).toBe(true);
    expect(isDpopNonceChallenge(401, 'DPoP error="use_dpop_nonce"', null)).toBe(false);
    expect(isDpopNonceChallenge(401, 'DPoP error="invalid_token"', 'n')).toBe(false);
    expect(isDpopNonceChallenge(400, 'DPoP error="use_dpop_nonce"', 'n')).toBe(false);
  });
});
