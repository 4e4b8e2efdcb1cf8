// A real session for proxy tests without going through the OAuth Agent: logs in at the local
// identity server (authorization code + PKCE over HTTP), redeems the code with the BFF's client
// credentials, and seals the tokens into the BFF's session cookies with the same keys and codec.
// When the agent lands, `loginThroughBff` returns the same shape ({cookie, csrf}) and can replace it.
import { createHash, randomBytes } from 'node:crypto';
import { loadConfig } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies } from '../../lib/cookies/session-cookies';
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';

export interface TestSession {
  /** The Cookie request header a browser would send to the BFF. */
  cookie: string;
  /** The value for the x-{p}-csrf header. */
  csrf: string;
  /** The raw access token, for asserting what the upstream received. Never sent by the test itself. */
  accessToken: string;
}

export interface SessionFromIdpOptions {
  issuer: string;
  /** The BFF's public origin (its redirect URI is origin + '/'). */
  bffOrigin: string;
  cookieKeys: string;
  username?: string;
  cookiePrefix?: string;
}

export async function sessionFromIdp(opts: SessionFromIdpOptions): Promise<TestSession> {
  const metadata = await (await fetch(`${opts.issuer}/.well-known/openid-configuration`)).json() as Record<string, string>;
  const redirectUri = `${opts.bffOrigin}/`;
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(metadata.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: 'demo-bff', response_type: 'code', redirect_uri: redirectUri, scope: 'openid profile offline_access',
    state: randomBytes(16).toString('base64url'), nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  }).toString();
  const final = new URL(await loginAtIdentityServer(url.href, opts.username ?? 'alice', new IdpCookieJar()));
  const res = await fetch(metadata.token_endpoint!, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('demo-bff:demo-bff-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: final.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifier }),
  });
  if (!res.ok) throw new Error(`token request failed: ${res.status}`);
  const tokens = await res.json() as { access_token: string; expires_in: number; refresh_token?: string; id_token?: string };

  const config = loadConfig({
    PUBLIC_ORIGIN: opts.bffOrigin, OIDC_ISSUER: opts.issuer, OIDC_CLIENT_ID: 'demo-bff', OIDC_CLIENT_SECRET: 'demo-bff-secret',
    COOKIE_KEYS: opts.cookieKeys, API_ROUTES: '/api=http://127.0.0.1:1', COOKIE_PREFIX: opts.cookiePrefix,
  });
  const cookies = new SessionCookies(config);
  const now = Math.floor(Date.now() / 1000);
  const session = cookies.create({
    accessToken: tokens.access_token, accessTokenExpiresAt: now + tokens.expires_in,
    refreshToken: tokens.refresh_token, idToken: tokens.id_token,
  }, now);
  const cookie = cookies.write(new CookieJar(''), session, now).map((line) => line.split(';')[0]).join('; ');
  return { cookie, csrf: session.csrf, accessToken: tokens.access_token };
}
