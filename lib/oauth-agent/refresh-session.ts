// POST /oauth-agent/refresh: new tokens through the race-free lib/session refresh, new cookies.
import { ThError } from '../errors';
import { refreshSessionTokens } from '../session/refresh-session-tokens';
import { placeSessionTokens } from '../session/server-side-tokens';
import { setCookieHeaders, type SessionContext } from './agent-route';

export async function refreshSession({ session, cookies, jar, config }: SessionContext): Promise<Response> {
  try {
    const refreshed = await placeSessionTokens(await refreshSessionTokens(session, { config }), cookies, config, session.stored);
    return new Response(null, { status: 204, headers: new Headers(setCookieHeaders(cookies.write(jar, refreshed))) });
  } catch (err) {
    // Contract §2: session_expired clears every session cookie.
    if (err instanceof ThError && err.code === 'session_expired') {
      throw new ThError('session_expired', err.message, { cause: err.cause ?? err, headers: setCookieHeaders(cookies.clear(jar)) });
    }
    throw err;
  }
}
