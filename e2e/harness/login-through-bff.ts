// Logs a user in through the BFF exactly as the SPA would (login/start → identity server's login
// form → login/end with the redirect URL as pageUrl) and returns the browser's cookies and CSRF
// token. Shared by the agent, proxy, security and client suites: keep it stable and small.
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';
import { applySetCookies } from './browser-cookies';
import type { RunningBff } from './start-bff';

export interface LoginResult {
  /** The Cookie request header value a browser would now send to the BFF. */
  cookies: string;
  /** Every Set-Cookie line received from the BFF during the login, in order. */
  setCookies: string[];
  /** The CSRF token for the x-{p}-csrf header. */
  csrf: string;
  /** The login/end response body. */
  body: { handled: boolean; isLoggedIn: boolean; csrf?: string; accessTokenExpiresIn?: number };
}

export interface LoginOptions {
  /** Cookie header to start from (e.g. an earlier session). */
  cookies?: string;
  extraParams?: Array<{ key: string; value: string }>;
  /** The identity server's browser cookies, to reuse its session (SSO) across logins. */
  idpJar?: IdpCookieJar;
}

/** Headers a same-origin fetch() from the SPA carries. */
export function browserHeaders(bff: RunningBff, cookies?: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    origin: bff.origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json',
    ...(cookies ? { cookie: cookies } : {}), ...extra,
  };
}

export async function loginThroughBff(bff: RunningBff, username = 'alice', opts: LoginOptions = {}): Promise<LoginResult> {
  const setCookies: string[] = [];
  let cookies = opts.cookies ?? '';
  const start = await fetch(`${bff.origin}/oauth-agent/login/start`, {
    method: 'POST', headers: browserHeaders(bff, cookies),
    body: opts.extraParams ? JSON.stringify({ extraParams: opts.extraParams }) : undefined,
  });
  if (start.status !== 200) throw new Error(`login/start answered ${start.status}: ${await start.text()}`);
  const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
  setCookies.push(...start.headers.getSetCookie());
  cookies = applySetCookies(cookies, start.headers.getSetCookie());

  const pageUrl = await loginAtIdentityServer(authorizationRequestUrl, username, opts.idpJar ?? new IdpCookieJar());
  const end = await fetch(`${bff.origin}/oauth-agent/login/end`, {
    method: 'POST', headers: browserHeaders(bff, cookies), body: JSON.stringify({ pageUrl }),
  });
  const body = await end.json() as LoginResult['body'];
  if (end.status !== 200 || !body.csrf) throw new Error(`login/end answered ${end.status}: ${JSON.stringify(body)}`);
  setCookies.push(...end.headers.getSetCookie());
  cookies = applySetCookies(cookies, end.headers.getSetCookie());
  return { cookies, setCookies, csrf: body.csrf, body };
}
