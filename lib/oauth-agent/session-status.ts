// GET /oauth-agent/session, and login/end when the page URL carries no authorization response:
// whether the browser holds a session, with its CSRF token and the access token's remaining life.
import type { Session } from '../cookies/session-cookies';
import { nowSeconds } from '../clock';
import { jsonResponse } from '../errors';
import { requireSession, type AgentContext } from './agent-route';

export interface SessionStatus {
  handled: boolean;
  isLoggedIn: boolean;
  csrf?: string;
  /** Seconds until the access token expires; ≤ 0 once it has (the SPA may then refresh). */
  accessTokenExpiresIn?: number;
}

export function describeSession(session: Session, handled: boolean, now = nowSeconds()): SessionStatus {
  return { handled, isLoggedIn: true, csrf: session.csrf, accessTokenExpiresIn: session.accessTokenExpiresAt - now };
}

/** The `handled: false` report; unreadable cookies are a 401 (and are cleared), absent ones are "not logged in". */
export function reportSession({ jar, cookies }: Pick<AgentContext, 'jar' | 'cookies'>): Response {
  if (cookies.read(jar).status === 'absent') return jsonResponse(200, { handled: false, isLoggedIn: false } satisfies SessionStatus);
  return jsonResponse(200, describeSession(requireSession(jar, cookies), false));
}

export async function getSession(ctx: AgentContext): Promise<Response> {
  return reportSession(ctx);
}
