// Helpers shared by the agent-*.test.ts suites: call an agent endpoint as the SPA would, and open
// the BFF's cookies with its keys to see which tokens they carry (never done by production code).
import { loadConfig } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies, type Session } from '../../lib/cookies/session-cookies';
import { browserHeaders } from '../harness/login-through-bff';
import type { RunningBff } from '../harness/start-bff';

export const CSRF_HEADER = 'x-th-csrf';

export interface CallOptions {
  method?: string;
  cookies?: string;
  csrf?: string;
  body?: unknown;
  /** Replaces the browser-like headers entirely. */
  headers?: Record<string, string>;
}

export function callAgent(bff: RunningBff, path: string, opts: CallOptions = {}): Promise<Response> {
  const method = opts.method ?? (path === 'session' || path === 'userInfo' || path === 'claims' ? 'GET' : 'POST');
  const headers = opts.headers ?? browserHeaders(bff, opts.cookies, opts.csrf ? { [CSRF_HEADER]: opts.csrf } : {});
  return fetch(`${bff.origin}/oauth-agent/${path}`, {
    method, headers, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
}

/** The BFF's own view of a Cookie header (decrypted with its keys). */
export function openSession(bff: RunningBff, cookieHeader: string, cookieKeys = bff.cookieKeys): Session | undefined {
  const config = loadConfig({
    PUBLIC_ORIGIN: bff.origin, OIDC_ISSUER: 'http://127.0.0.1:1', OIDC_CLIENT_ID: 'demo-bff', OIDC_CLIENT_SECRET: 'x',
    COOKIE_KEYS: cookieKeys, API_ROUTES: '/api=http://127.0.0.1:1',
  });
  const read = new SessionCookies(config).read(new CookieJar(cookieHeader));
  return read.status === 'ok' ? read.value : undefined;
}

/** The `sub` of a JWT access token (the local identity server issues JWTs). */
export function subjectOf(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }).sub;
}

/** Set-Cookie lines that delete a cookie, by name. */
export const clearedNames = (setCookies: string[]) =>
  setCookies.filter((l) => /Max-Age=0/.test(l)).map((l) => l.slice(0, l.indexOf('=')));

export const SESSION_COOKIES = ['__Host-th-at', '__Host-th-rt', '__Host-th-id', '__Host-th-csrf'];

export interface IdpEvent { type: string; grantType?: string; error?: string; at: number }

export async function idpEvents(issuer: string): Promise<IdpEvent[]> {
  return (await fetch(`${issuer}/__test/events`)).json() as Promise<IdpEvent[]>;
}

export const refreshGrants = (events: IdpEvent[]) => events.filter((e) => e.type === 'grant.success' && e.grantType === 'refresh_token');
