// Back-channel protocol steps after the authorization response: code redemption, refresh,
// UserInfo, end-session URL and revocation. All go through openid-client (docs/architecture.md).
import * as client from 'openid-client';
import type { Config } from '../config';
import { ThError } from '../errors';
import type { LoginTransaction } from './authorization-request';
import { forgetOidcConfiguration, getOidcConfiguration } from './oidc-configuration';
import { toOidcError, type OidcStep } from './oidc-errors';
import { decodeIdTokenClaims } from './id-token-claims';
import type { DpopKey } from './dpop';
import { dpopHandleFor } from './dpop-handle';
import { nowSeconds } from '../clock';

export interface IssuedTokens {
  accessToken: string;
  /** Unix seconds, from `expires_in` (RFC 6749 §5.1). */
  accessTokenExpiresAt: number;
  /** Unix seconds when the token was received; expiry minus this is its lifetime. */
  accessTokenIssuedAt: number;
  refreshToken?: string;
  idToken?: string;
  /** RFC 9449 §5: after login, the key the access token is bound to, when the identity server issued a DPoP token. */
  dpopKey?: DpopKey;
}

/** Used when the identity server omits `expires_in` (it is only RECOMMENDED, RFC 6749 §5.1). */
const DEFAULT_ACCESS_TOKEN_SECONDS = 300;

async function step<T>(oidc: Config['oidc'], name: OidcStep, run: (c: client.Configuration) => Promise<T>): Promise<T> {
  let configuration: client.Configuration;
  try { configuration = await getOidcConfiguration(oidc); } catch (err) { throw toOidcError(err, 'discovery'); }
  try {
    return await run(configuration);
  } catch (err) {
    const mapped = toOidcError(err, name);
    // Keys or endpoints may have moved: rediscover on the next call after an outage-like failure, or
    // when a signature names a key the cached JWKS lacks (an identity server's keys changed without
    // overlap; openid-client re-fetches a JWKS younger than 60 s only with a new configuration).
    if (mapped.status >= 500 || isKeySelectionFailure(err)) forgetOidcConfiguration();
    throw mapped;
  }
}

function isKeySelectionFailure(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (e.code === 'OAUTH_KEY_SELECTION_FAILED') return true;
  }
  return false;
}

function toIssuedTokens(response: client.TokenEndpointResponse, now: number): IssuedTokens {
  const expiresIn = typeof response.expires_in === 'number' ? response.expires_in : DEFAULT_ACCESS_TOKEN_SECONDS;
  return {
    accessToken: response.access_token,
    accessTokenExpiresAt: now + expiresIn,
    accessTokenIssuedAt: now,
    refreshToken: response.refresh_token,
    idToken: response.id_token,
  };
}

/**
 * RFC 6749 §4.1.3 + OIDC Core §3.1.3: checks the authorization response against the transaction
 * (state, RFC 9207 `iss`), redeems the code with the PKCE verifier, validates the ID token
 * (signature, iss, aud, exp, nonce, auth_time when max_age was asked).
 */
export async function redeemAuthorizationCode(
  oidc: Config['oidc'], responseParams: URLSearchParams, transaction: LoginTransaction, now = nowSeconds(),
): Promise<IssuedTokens> {
  // The redirect_uri sent to the token endpoint is the configured one (RFC 6749 §4.1.3), never the page's URL.
  const currentUrl = new URL(oidc.redirectUri);
  currentUrl.search = responseParams.toString();
  return step(oidc, 'authorization_code', async (configuration) => {
    const DPoP = await dpopHandleFor(configuration, transaction.dpopKey);
    const response = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: transaction.codeVerifier,
      expectedState: transaction.state,
      expectedNonce: transaction.nonce,
      idTokenExpected: true,
      ...(transaction.maxAge !== undefined ? { maxAge: transaction.maxAge } : {}),
    }, undefined, DPoP ? { DPoP } : undefined);
    const tokens = toIssuedTokens(response, now);
    // RFC 9449 §5: token_type DPoP means the token is bound to the key; an identity server without DPoP
    // answers Bearer, and the session then has no key (its proxy calls stay Bearer).
    return transaction.dpopKey && response.token_type === 'dpop' ? { ...tokens, dpopKey: transaction.dpopKey } : tokens;
  });
}

/**
 * RFC 6749 §6 refresh. OIDC Core §12.2: a refreshed ID token must keep `iss` and `sub` (openid-client
 * validates its signature, `iss` and `aud`; the continuity with the session's subject is checked here).
 */
export async function refreshAccessToken(
  oidc: Config['oidc'], refreshToken: string, previousIdToken: string | undefined, now = nowSeconds(),
  dpopKey?: DpopKey,
): Promise<IssuedTokens> {
  return step(oidc, 'refresh', async (configuration) => {
    // RFC 9449 §5: the refreshed token is bound to the session's same key (kept in its cookie).
    const DPoP = await dpopHandleFor(configuration, dpopKey);
    const response = await client.refreshTokenGrant(configuration, refreshToken, undefined, DPoP ? { DPoP } : undefined);
    // The key stays in the session's cookie only: never in the successor store (lib/session) with the tokens.
    const tokens = toIssuedTokens(response, now);
    if (tokens.idToken && previousIdToken) {
      const before = decodeIdTokenClaims(previousIdToken);
      const after = decodeIdTokenClaims(tokens.idToken);
      if (before.iss !== after.iss || before.sub !== after.sub) {
        throw new ThError('session_expired', 'The session has expired, please sign in again');
      }
    }
    return tokens;
  });
}

/** OIDC Core §5.3: UserInfo; §5.3.2: its `sub` must equal the ID token's. */
export async function fetchUserInfo(
  oidc: Config['oidc'], accessToken: string, expectedSubject: string, dpopKey?: DpopKey,
): Promise<Record<string, unknown>> {
  return step(oidc, 'userinfo', async (configuration) => {
    // RFC 9449 §7: a DPoP-bound token is presented as `Authorization: DPoP` with a proof.
    const DPoP = await dpopHandleFor(configuration, dpopKey);
    return { ...(await client.fetchUserInfo(configuration, accessToken, expectedSubject, DPoP ? { DPoP } : undefined)) };
  });
}

/** OIDC RP-Initiated Logout §2: the end-session URL, or null when the identity server has none. */
export async function buildEndSessionUrl(oidc: Config['oidc'], idToken: string | undefined): Promise<string | null> {
  return step(oidc, 'discovery', async (configuration) => {
    if (!configuration.serverMetadata().end_session_endpoint) return null;
    return client.buildEndSessionUrl(configuration, {
      client_id: oidc.clientId,
      post_logout_redirect_uri: oidc.postLogoutRedirectUri,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href;
  });
}

/** RFC 7009: revokes the refresh token when the identity server offers revocation; false when it does not. */
export async function revokeRefreshToken(oidc: Config['oidc'], refreshToken: string): Promise<boolean> {
  return step(oidc, 'revocation', async (configuration) => {
    if (!configuration.serverMetadata().revocation_endpoint) return false;
    await client.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' });
    return true;
  });
}
