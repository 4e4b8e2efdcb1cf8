// The one check both the OAuth Agent and the OAuth Proxy make on a session they have opened.
import { ThError } from '../errors';
import { log } from '../log';
import { getSessionDenylist } from './default-denylist';
import type { RevocableSession } from './session-denylist';

/**
 * Contract §7: a revoked session's request answers 401 session_expired with every session cookie
 * cleared (`clearing` gives the Set-Cookie lines). A Map lookup; no I/O.
 */
export function assertNotRevoked(session: RevocableSession, clearing: () => string[]): void {
  if (!getSessionDenylist().isRevoked(session)) return;
  log('info', 'revoked_session_refused', { sid: session.sid });
  throw new ThError('session_expired', 'The session has ended, please sign in again', {
    headers: clearing().map((line) => ['set-cookie', line] as const),
  });
}
