// POST /oauth-agent/backchannel-logout (OpenID Connect Back-Channel Logout 1.0 §2.5–2.8, docs/contract.md §7):
// the identity server says a session ended there; every BFF session it names ends here too.
import { nowSeconds } from '../cookies/session-cookies';
import { BackChannelLogoutError } from '../errors';
import { log } from '../log';
import { countBackchannelLogout } from '../observability/metrics';
import { LogoutTokenRejected, verifyLogoutToken } from '../oidc/logout-token';
import { getSessionDenylist } from '../revocation/default-denylist';
import type { AgentContext } from './agent-route';

// A logout token is a few hundred bytes; the agent's body limit applies here too.
const MAX_BODY_CHARS = 16 * 1024;

/** §2.5: an `application/x-www-form-urlencoded` POST with one `logout_token`. */
async function readLogoutToken(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_CHARS) throw new BackChannelLogoutError('The request body is too large');
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new BackChannelLogoutError('The request body must be a form');
  const text = await readBoundedText(request);
  const tokens = new URLSearchParams(text).getAll('logout_token');
  if (tokens.length !== 1 || !tokens[0]) throw new BackChannelLogoutError('logout_token is missing');
  return tokens[0];
}

/** The body as text, read no further than the limit (a body without Content-Length may be any size). */
async function readBoundedText(request: Request): Promise<string> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > MAX_BODY_CHARS) {
      await reader.cancel();
      throw new BackChannelLogoutError('The request body is too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
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
