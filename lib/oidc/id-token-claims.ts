// Reads the claims of an ID token that was validated when it was issued (OIDC Core §3.1.3.7) and
// has since been kept in an authenticated, encrypted cookie, so its signature need not be re-checked.

export interface IdTokenClaims {
  iss: string;
  sub: string;
  [claim: string]: unknown;
}

/** The payload of a compact JWS; throws when it is not one. */
export function decodeIdTokenClaims(idToken: string): IdTokenClaims {
  const parts = idToken.split('.');
  if (parts.length !== 3 || !parts[1]) throw new Error('not a compact JWS');
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as IdTokenClaims;
  if (typeof claims !== 'object' || claims === null || typeof claims.sub !== 'string' || typeof claims.iss !== 'string') {
    throw new Error('ID token claims lack iss or sub');
  }
  return claims;
}
