// POST /oauth-agent/logout: revoke the refresh token (best effort), clear every cookie, and hand
// the SPA the RP-initiated logout URL (OIDC RP-Initiated Logout 1.0 §2).
import { describeCause, jsonResponse } from '../errors';
import { log } from '../log';
import { buildEndSessionUrl, revokeRefreshToken } from '../oidc/token-requests';
import { getSessionDenylist } from '../revocation/default-denylist';
import { removeStoredTokens } from '../session/server-side-tokens';
import { setCookieHeaders, type SessionContext } from './agent-route';

export async function logout({ session, cookies, jar, config }: SessionContext): Promise<Response> {
  const clear = setCookieHeaders(cookies.clear(jar));
  // Contract §7: a copy of these cookies replayed after logout is refused (until they would expire anyway).
  try { await getSessionDenylist().revoke({ kind: 'session', sid: session.sid }, session.expiresAt); } catch (err) {
    log('warn', 'session_denylist_failed', describeCause(err));
  }
  // Docs/contract.md §7 "Big tokens": a stored session's tokens are gone from the store at once.
  await removeStoredTokens(session.stored, config, session.sid);
  let revoked = false;
  if (session.refreshToken) {
    // RFC 7009: revocation is best effort; an unreachable identity server must not keep the user logged in.
    try { revoked = await revokeRefreshToken(config.oidc, session.refreshToken); } catch (err) {
      log('warn', 'revocation_failed', describeCause(err));
    }
  }
  let url: string | null = null;
  try { url = await buildEndSessionUrl(config.oidc, session.idToken); } catch (err) {
    log('warn', 'end_session_url_unavailable', describeCause(err));
  }
  log('info', 'logout', { sid: session.sid, revoked });
  return jsonResponse(200, { url }, clear);
}
