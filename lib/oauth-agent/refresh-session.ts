// POST /oauth-agent/refresh: new tokens through the race-free lib/session refresh, new cookies.
import { ThError } from '../errors';
import { refreshSessionTokens } from '../session/refresh-session-tokens';
import { setCookieHeaders, type AgentContext } from './agent-route';

export async function refreshSession({ session, cookies, jar, config }: AgentContext): Promise<Response> {
  try {
    const refreshed = await refreshSessionTokens(session!, { config });
    return new Response(null, { status: 204, headers: new Headers(setCookieHeaders(cookies.write(jar, refreshed))) });
  } catch (err) {
    // Contract §2: session_expired clears every session cookie.
    if (err instanceof ThError && err.code === 'session_expired') {
      throw new ThError('session_expired', err.message, { cause: err.cause ?? err, headers: setCookieHeaders(cookies.clear(jar)) });
    }
    throw err;
  }
}
