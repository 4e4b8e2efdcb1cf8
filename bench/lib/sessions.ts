// Real sessions for the authenticated variants, minted the way a browser would end up holding them:
// log in at the local identity server over HTTP (PKCE, demo-bff), redeem the code, then seal the
// tokens into cookies — ours with lib/cookies (the product's own codec), next-auth's with its `encode`.
import { createHash, randomBytes } from 'node:crypto';
import { encode } from 'next-auth/jwt';
import { loadConfig, type Env } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies } from '../../lib/cookies/session-cookies';
import { csrfHeaderName } from '../../lib/security/request-guards';
import { loginAtIdentityServer } from '../../e2e/servers/drive-login';

export interface IdpTokens { accessToken: string; refreshToken?: string; idToken?: string; expiresIn: number }

interface Metadata { authorization_endpoint: string; token_endpoint: string }

/** Authorization code + PKCE at the local identity server, for `redirectUri` (a registered BFF origin). */
export async function loginForTokens(issuer: string, redirectUri: string, username = 'bench'): Promise<IdpTokens> {
  const md = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as Metadata;
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(md.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: 'demo-bff', response_type: 'code', redirect_uri: redirectUri, scope: 'openid profile offline_access',
    state: randomBytes(8).toString('hex'), nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  }).toString();
  const final = new URL(await loginAtIdentityServer(url.href, username));
  const res = await fetch(md.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('demo-bff:demo-bff-secret').toString('base64')}` },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: final.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifier,
    }),
  });
  const body = await res.json() as { access_token?: string; refresh_token?: string; id_token?: string; expires_in?: number };
  if (!res.ok || !body.access_token) throw new Error(`token request failed with ${res.status}`);
  return { accessToken: body.access_token, refreshToken: body.refresh_token, idToken: body.id_token, expiresIn: body.expires_in ?? 300 };
}

export interface OurSession { cookie: string; csrfHeader: string; csrf: string }

/** Our session cookies for a BFF started with `bffEnv` (same keys, origin and prefix). */
export function sealOurSession(bffEnv: Env, tokens: IdpTokens): OurSession {
  const config = loadConfig(bffEnv);
  const cookies = new SessionCookies(config);
  const session = cookies.create({
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: Math.floor(Date.now() / 1000) + tokens.expiresIn,
    refreshToken: tokens.refreshToken,
    idToken: tokens.idToken,
  });
  const cookie = cookies.write(new CookieJar(''), session).map((line) => line.split(';')[0]).join('; ');
  return { cookie, csrfHeader: csrfHeaderName(config.cookiePrefix), csrf: session.csrf };
}

/** next-auth v4's session cookie (JWE, dir + A256GCM) holding the access token, as its jwt callback would store it. */
export async function sealNextAuthSession(secret: string, tokens: IdpTokens): Promise<string> {
  const jwe = await encode({ secret, token: { sub: 'bench', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken } });
  return `next-auth.session-token=${jwe}`;
}
