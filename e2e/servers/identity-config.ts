// oidc-provider 9 configuration for the local identity server (test/demo stand-in for a real IdP).
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import { errors } from 'oidc-provider';
import { errorPage, logoutPage, postLogoutPage } from './identity-pages';
import { createMemoryAdapterFactory } from './memory-adapter';

export const DEMO_CLIENT_ID = 'demo-bff';
// DEV-ONLY secret of the demo client. Public on purpose (documented in the contract); never use
// it, or this identity server, anywhere but on a developer machine or in tests.
export const DEMO_CLIENT_SECRET = 'demo-bff-secret';
export const DEMO_PASSWORD = 'Password1';
/**
 * Clients of the several-SPAs demo and tests (contract §8): one per path-based app, redirect URIs
 * `<BFF origin>/<id>/`. DEV-ONLY secrets, public on purpose like demo-bff's.
 */
export const APP_CLIENTS = [
  { id: 'shop', clientId: 'shop-bff', secret: 'shop-bff-secret', basePath: '/shop' },
  { id: 'admin', clientId: 'admin-bff', secret: 'admin-bff-secret', basePath: '/admin' },
] as const;
export const SCOPES = ['openid', 'profile', 'email', 'offline_access'];
export const ACCESS_TOKEN_ALG = 'ES256';
export const ID_TOKEN_ALG = 'RS256';
export const CLOCK_TOLERANCE_SECONDS = 1;

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface ProviderConfigOptions {
  bffOrigins: string[];
  /** The BFF origin that receives back-channel logout calls (default: the first of bffOrigins). */
  backchannelLogoutOrigin?: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  clientAuthMethod: ClientAuthMethod;
  clientJwks?: JSONWebKeySet;
  apiAudience: string;
  rotateRefreshTokens: boolean;
  /** RFC 9126 PAR endpoint advertised (default true); false starts an identity server without PAR. */
  par?: boolean;
  /** RFC 9449 §8: every DPoP proof at this server must carry its nonce (default false). */
  dpopNonce?: boolean;
  /**
   * FAPI 2.0 Security Profile (oidc-provider features.fapi '2.0'): PAR required, DPoP-bound access
   * tokens required for the client, ES256 ID tokens, `iss` in the authorization response.
   */
  fapi2?: boolean;
  jwtCustomizer: (ctx: unknown, token: never, jwt: never) => Promise<void>;
}

/** Signing keys generated at every start: nothing secret is ever committed. */
export async function generateSigningKeys(): Promise<{ privateJwks: { keys: JWK[] }; publicJwks: JSONWebKeySet }> {
  const privateKeys: JWK[] = [];
  const publicKeys: JWK[] = [];
  for (const alg of [ID_TOKEN_ALG, ACCESS_TOKEN_ALG]) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`;
    privateKeys.push({ ...(await exportJWK(privateKey)), kid, alg, use: 'sig' });
    publicKeys.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
  }
  return { privateJwks: { keys: privateKeys }, publicJwks: { keys: publicKeys } };
}

/** Demo accounts: any username exists; claims are derived from it. */
export function accountClaims(username: string) {
  const given = username.charAt(0).toUpperCase() + username.slice(1);
  return {
    sub: username,
    name: given,
    given_name: given,
    family_name: 'Demo',
    email: `${username}@example.com`,
    email_verified: true,
  };
}

/**
 * oidc-provider ≥ 9.7 sends its outgoing requests (here: back-channel logout calls) through an undici
 * dispatcher that destroys any connection to a special-use address (loopback, private ranges), against
 * SSRF. The local stack's BFF is on localhost, so for a loopback target only that dispatcher is
 * dropped. Local identity server only (tests and demo); every other target keeps the protection.
 */
function fetchAllowingLoopback(url: string | URL, options: RequestInit & { dispatcher?: unknown }): Promise<Response> {
  const { hostname } = new URL(url);
  if (hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]') {
    const { dispatcher: _ssrfGuard, ...rest } = options;
    return globalThis.fetch(url, rest);
  }
  return globalThis.fetch(url, options);
}

export function buildProviderConfiguration(o: ProviderConfigOptions, privateJwks: { keys: JWK[] }) {
  const redirectUris = o.bffOrigins.map((origin) => `${new URL(origin).origin}/`);
  const client: Record<string, unknown> = {
    client_id: DEMO_CLIENT_ID,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: redirectUris,
    scope: SCOPES.join(' '),
    token_endpoint_auth_method: o.clientAuthMethod,
    // Contract §5/§7: back-channel logout to the BFF, with `sid` in every logout token.
    backchannel_logout_uri: new URL('/oauth-agent/backchannel-logout', o.backchannelLogoutOrigin ?? o.bffOrigins[0]).href,
    backchannel_logout_session_required: true,
    id_token_signed_response_alg: o.fapi2 ? ACCESS_TOKEN_ALG : ID_TOKEN_ALG,
    // RFC 9449 §5.2: this client's access tokens must be DPoP-bound.
    ...(o.fapi2 ? { dpop_bound_access_tokens: true, require_pushed_authorization_requests: true } : {}),
  };
  if (o.clientAuthMethod === 'private_key_jwt') {
    if (!o.clientJwks) throw new Error('clientAuthMethod private_key_jwt needs clientJwks (public JWKS)');
    client.jwks = o.clientJwks;
  } else {
    client.client_secret = DEMO_CLIENT_SECRET;
  }

  const resourceServer = {
    scope: SCOPES.join(' '),
    audience: o.apiAudience,
    accessTokenTTL: o.accessTokenTtl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: ACCESS_TOKEN_ALG } },
  };

  // Same grants and authentication as demo-bff; redirect URIs under the app's base path.
  const appClients = o.clientAuthMethod === 'private_key_jwt' ? [] : APP_CLIENTS.map((app) => {
    const uris = o.bffOrigins.map((origin) => `${new URL(origin).origin}${app.basePath}/`);
    return { ...client, client_id: app.clientId, client_secret: app.secret, redirect_uris: uris, post_logout_redirect_uris: uris };
  });

  return {
    adapter: createMemoryAdapterFactory(CLOCK_TOLERANCE_SECONDS),
    clients: [client, ...appClients],
    jwks: privateJwks,
    cookies: { keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')] },
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    scopes: SCOPES,
    responseTypes: ['code'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    async findAccount(_ctx: unknown, sub: string) {
      return { accountId: sub, claims: async () => accountClaims(sub) };
    },
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 supports
    // Like Curity/Keycloak: always issue a refresh token to a client allowed the grant. Without
    // this, none would be issued: oidc-provider drops offline_access from any authorization
    // request whose `prompt` does not include "consent" (OIDC Core §11).
    issueRefreshToken: async (_ctx: unknown, c: { grantTypeAllowed(t: string): boolean }) =>
      c.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: o.rotateRefreshTokens,
    ttl: {
      AccessToken: o.accessTokenTtl,
      RefreshToken: o.refreshTokenTtl,
      IdToken: 3600,
      AuthorizationCode: 60,
      Interaction: 3600,
      // Without prompt=consent oidc-provider drops offline_access (OIDC Core §11), so tokens are
      // bound to the IdP session (expiresWithSession): let the session outlive the refresh token.
      Session: Math.max(o.refreshTokenTtl, 24 * 3600),
      Grant: Math.max(o.refreshTokenTtl, 24 * 3600),
    },
    clientBasedCORS: () => false, // the BFF calls us server-side; no browser CORS needed
    fetch: fetchAllowingLoopback,
    features: {
      backchannelLogout: { enabled: true },
      devInteractions: { enabled: false },
      // RFC 9126: advertised unless a test starts an identity server without PAR.
      pushedAuthorizationRequests: { enabled: o.par ?? true, requirePushedAuthorizationRequests: o.fapi2 ?? false },
      // RFC 9449: DPoP-bound tokens (cnf.jkt in the JWT access tokens), optionally demanding nonces.
      dPoP: {
        enabled: true,
        ...(o.dpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
      },
      ...(o.fapi2 ? { fapi: { enabled: true, profile: '2.0' } } : {}),
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke only its own tokens.
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => {
          if (token.clientId !== client.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) =>
          oneOf ? (oneOf.includes(o.apiAudience) ? o.apiAudience : oneOf[0]) : o.apiAudience,
        // Reuse the granted resource at the token endpoint (default: openid -> opaque token).
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== o.apiAudience) throw new errors.InvalidTarget();
          return resourceServer;
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: { body: string }, form: string) => { ctx.body = logoutPage(form); },
        postLogoutSuccessSource: async (ctx: { body: string }) => { ctx.body = postLogoutPage(); },
      },
    },
    formats: { customizers: { jwt: o.jwtCustomizer } },
    interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    renderError: async (ctx: { type: string; body: string }, out: Record<string, unknown>) => {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
  };
}
