// Validation of a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6), with
// the identity server's keys from discovery. Throws LogoutTokenRejected (the endpoint answers 400)
// for any token that fails a rule; discovery or JWKS failures pass through (502).
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config';
import { getOidcConfiguration } from './oidc-configuration';
import { nowSeconds } from '../clock';

/** The event member that makes a JWT a logout token (Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Clock skew allowed for `iat` in the future and `exp` in the past (OIDC Core §3.1.3.7 step 10: "acceptable range"). */
export const LOGOUT_TOKEN_CLOCK_SKEW_SECONDS = 60;

// §2.6 step 2 / RFC 8725 §3.1: only the identity server's asymmetric keys may sign; `none` and HMAC
// (keyed with the client secret, which the client itself holds) are refused.
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export interface LogoutTokenClaims {
  iss: string;
  jti: string;
  /** Unix seconds. */
  iat: number;
  exp?: number;
  sid?: string;
  sub?: string;
}

/** A logout token that fails a rule; the message is safe to return (it never quotes the token). */
export class LogoutTokenRejected extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogoutTokenRejected';
  }
}

// One remote key set per jwks_uri, kept for the process: jose caches the keys and refetches (with a
// cooldown) when a token names a key id it does not know, which is how key rotation is picked up.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySetFor(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
  let set = keySets.get(jwksUri);
  if (!set) keySets.set(jwksUri, (set = createRemoteJWKSet(new URL(jwksUri))));
  return set;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Every §2.6 rule, in the spec's order; `now` in unix seconds. */
export async function verifyLogoutToken(oidc: Config['oidc'], logoutToken: string, now = nowSeconds()): Promise<LogoutTokenClaims> {
  // §2.6 step 1: this client registers no encryption, so a JWE (5 parts) is not a token for it.
  if (logoutToken.split('.').length !== 3) throw new LogoutTokenRejected('The logout token is not a signed JWT');
  let typ: unknown;
  try { typ = decodeProtectedHeader(logoutToken).typ; } catch (err) {
    throw new LogoutTokenRejected('The logout token is not a signed JWT', { cause: err });
  }
  // §2.4 / RFC 8725 §3.11: explicit typing keeps other JWTs (ID tokens, access tokens) out; absent is allowed.
  if (typ !== undefined && (typeof typ !== 'string' || !/^(application\/)?logout\+jwt$/i.test(typ))) {
    throw new LogoutTokenRejected('The logout token has a foreign typ');
  }
  const jwksUri = (await getOidcConfiguration(oidc)).serverMetadata().jwks_uri;
  if (!jwksUri) throw new Error('The identity server advertises no jwks_uri');

  let payload: JWTPayload;
  try {
    // §2.6 steps 2–3: signature, then iss, aud and exp the way an ID token's are (OIDC Core §3.1.3.7).
    ({ payload } = await jwtVerify(logoutToken, keySetFor(jwksUri), {
      algorithms: ASYMMETRIC_ALGORITHMS,
      issuer: oidc.issuer,
      audience: oidc.clientId,
      clockTolerance: LOGOUT_TOKEN_CLOCK_SKEW_SECONDS,
      currentDate: new Date(now * 1000),
      requiredClaims: ['iat', 'jti', 'events'],
    }));
  } catch (err) {
    // The identity server's key set could not be fetched or is broken: not the token's fault.
    if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError)) throw err;
    throw new LogoutTokenRejected(rejectionOf(err), { cause: err });
  }
  // §2.6 step 3 (OIDC Core §3.1.3.7 step 10): iat is required and may not lie in the future.
  if (typeof payload.iat !== 'number' || payload.iat > now + LOGOUT_TOKEN_CLOCK_SKEW_SECONDS) {
    throw new LogoutTokenRejected('The logout token was issued in the future');
  }
  // §2.6 step 4: both or one of sub and sid.
  const sid = payload.sid;
  const sub = payload.sub;
  if (sid !== undefined && !isNonEmptyString(sid)) throw new LogoutTokenRejected('The logout token has a malformed sid');
  if (sub !== undefined && !isNonEmptyString(sub)) throw new LogoutTokenRejected('The logout token has a malformed sub');
  if (sid === undefined && sub === undefined) throw new LogoutTokenRejected('The logout token names neither sid nor sub');
  // §2.6 step 5: events holds the back-channel logout member, whose value is a JSON object.
  if (!isObject(payload.events) || !isObject(payload.events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw new LogoutTokenRejected('The logout token has no back-channel logout event');
  }
  // §2.6 step 6: a nonce means an ID token passed off as a logout token.
  if ('nonce' in payload) throw new LogoutTokenRejected('The logout token carries a nonce');
  if (!isNonEmptyString(payload.jti)) throw new LogoutTokenRejected('The logout token has no jti');
  return {
    iss: oidc.issuer, jti: payload.jti, iat: payload.iat,
    ...(typeof payload.exp === 'number' ? { exp: payload.exp } : {}),
    ...(sid !== undefined ? { sid } : {}),
    ...(sub !== undefined ? { sub } : {}),
  };
}

/** A description of the failed rule that names the rule, never the token's content. */
function rejectionOf(err: InstanceType<typeof joseErrors.JOSEError>): string {
  if (err instanceof joseErrors.JWTExpired) return 'The logout token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (claim === 'iss') return 'The logout token is from another issuer';
    if (claim === 'aud') return 'The logout token is not for this client';
    if (claim === 'iat' || claim === 'nbf') return 'The logout token was issued in the future';
    return `The logout token's ${claim} claim is missing or invalid`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The logout token\'s signing algorithm is not allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'The logout token is signed with an unknown key';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'The logout token names no single key';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The logout token\'s signature is invalid';
  return 'The logout token is malformed';
}
