// POST /oauth-agent/backchannel-logout (OpenID Connect Back-Channel Logout 1.0 §2.5–2.8, docs/contract.md §7):
// the identity server says a session ended there; every BFF session it names ends here too.
import { nowSeconds } from '../clock';
import { BackChannelLogoutError } from '../errors';
import { log } from '../log';
import { countBackchannelLogout } from '../observability/metrics';
import { LogoutTokenRejected, verifyLogoutToken } from '../oidc/logout-token';
import { getSessionDenylist } from '../revocation/default-denylist';
import { readLimitedText, type AgentContext } from './agent-route';

/** §2.5: an `application/x-www-form-urlencoded` POST with one `logout_token`, within the agent's body limit. */
async function readLogoutToken(request: Request): Promise<string> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new BackChannelLogoutError('The request body must be a form');
  const text = await readLimitedText(request, () => new BackChannelLogoutError('The request body is too large'));
  const tokens = new URLSearchParams(text).getAll('logout_token');
  if (tokens.length !== 1 || !tokens[0]) throw new BackChannelLogoutError('logout_token is missing');
  return tokens[0];
}

export async function backchannelLogout(context: AgentContext): Promise<Response> {
  try {
    const response = await endNamedSessions(context);
    countBackchannelLogout('accepted');
    return response;
  } catch (err) {
    if (err instanceof BackChannelLogoutError) countBackchannelLogout('rejected');
    throw err;
  }
}

async function endNamedSessions({ request, config }: AgentContext): Promise<Response> {
  const token = await readLogoutToken(request);
  let claims;
  try {
    claims = await verifyLogoutToken(config.oidc, token);
  } catch (err) {
    if (err instanceof LogoutTokenRejected) throw new BackChannelLogoutError(err.message, { cause: err });
    throw err;
  }
  const denylist = getSessionDenylist();
  // Any session the token can name ends within SESSION_MAX_AGE_SECONDS: remembered that long.
  const until = nowSeconds() + config.sessionMaxAgeSeconds;
  // §2.6 step 8 (jti replay): answered as a success, and nothing more happens.
  if (!(await denylist.claimLogoutToken(claims.iss, claims.jti, until))) {
    log('info', 'backchannel_logout_replayed', {});
    return new Response(null, { status: 200 });
  }
  if (claims.sid !== undefined) {
    await denylist.revoke({ kind: 'idp-session', iss: claims.iss, idpSid: claims.sid }, until);
  } else {
    // §2.4: with only `sub`, every session of that subject at this issuer (those begun before the token).
    await denylist.revoke({ kind: 'subject', iss: claims.iss, sub: claims.sub!, before: claims.iat }, until);
  }
  log('info', 'backchannel_logout', { by: claims.sid !== undefined ? 'sid' : 'sub' });
  return new Response(null, { status: 200 });
}
