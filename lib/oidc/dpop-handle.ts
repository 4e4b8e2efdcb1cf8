// The session's DPoP key (lib/oidc/dpop.ts) as openid-client's DPoP handle, for the token requests
// (code exchange, refresh) and UserInfo (RFC 9449 §5, §7). openid-client retries once on
// `use_dpop_nonce` itself; the nonce each server last handed out is shared with the proxy's proofs.
import { webcrypto } from 'node:crypto';
import * as client from 'openid-client';
import { dpopNonceFor, dpopPrivateJwk, rememberDpopNonce, type DpopKey } from './dpop';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** A handle signing with the session's key; undefined when the session has none (DPoP off). */
export async function dpopHandleFor(configuration: client.Configuration, key: DpopKey | undefined): Promise<client.DPoPHandle | undefined> {
  if (key === undefined) return undefined;
  const { kty, crv, x, y, d } = dpopPrivateJwk(key);
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey('jwk', { kty, crv, x, y, d }, EC_P256, false, ['sign']),
    // openid-client puts the public JWK into each proof's header, so it must be exportable.
    webcrypto.subtle.importKey('jwk', { kty, crv, x, y }, EC_P256, true, ['verify']),
  ]);
  return client.getDPoPHandle(configuration, { privateKey, publicKey } as CryptoKeyPair, {
    // RFC 9449 §8: a new handle per request, so the last nonce of this server comes from the shared memory.
    [client.modifyAssertion]: (_header: Record<string, unknown>, payload: Record<string, unknown>) => {
      if (payload.nonce === undefined && typeof payload.htu === 'string') payload.nonce = dpopNonceFor(new URL(payload.htu).origin);
    },
  });
}

/** Wraps a fetch so every DPoP-Nonce a server sends is remembered for the next proof to its origin. */
export function fetchRememberingDpopNonces(inner: typeof fetch = fetch): client.CustomFetch {
  return async (url, options) => {
    const response = await inner(url, options as RequestInit);
    rememberDpopNonce(new URL(url).origin, response.headers.get('dpop-nonce'));
    return response;
  };
}
