// GET /oauth-agent/userInfo and GET /oauth-agent/claims.
import { jsonResponse, ThError } from '../errors';
import { decodeIdTokenClaims, type IdTokenClaims } from '../oidc/id-token-claims';
import { fetchUserInfo } from '../oidc/token-requests';
import type { SessionContext } from './agent-route';

function idTokenClaims({ session }: SessionContext): IdTokenClaims {
  if (!session.idToken) throw new ThError('unauthorized_request', 'The session has no ID token');
  try {
    return decodeIdTokenClaims(session.idToken);
  } catch (err) {
    throw new ThError('unauthorized_request', 'The session has no usable ID token', { cause: err });
  }
}

/** OIDC Core §5.3.2: the UserInfo `sub` must equal the ID token's (checked by openid-client). */
export async function getUserInfo(ctx: SessionContext): Promise<Response> {
  const { sub } = idTokenClaims(ctx);
  const { session } = ctx;
  if (!session.accessToken) throw new ThError('token_expired', 'The access token has expired');
  return jsonResponse(200, await fetchUserInfo(ctx.config.oidc, session.accessToken, sub, session.dpopKey));
}

/** The claims of the ID token validated at login (or at the last refresh). */
export async function getClaims(ctx: SessionContext): Promise<Response> {
  return jsonResponse(200, idTokenClaims(ctx));
}
