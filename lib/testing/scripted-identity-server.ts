// A scripted OpenID Provider for the in-process test tier (test support only, never imported by app
// code). It answers openid-client's back-channel requests through `fetch` (installed as its
// customFetch): real discovery JSON, a real JWKS, ID tokens signed with a real key, and a token
// endpoint that really checks client authentication (secret or private_key_jwt), PKCE, redirect_uri,
// single-use codes and refresh-token rotation. Tests script its behaviour through the fields below.
import { createHash, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { createSigningKey, signIdToken, verifyClientAssertion, type SigningKey } from './scripted-idp-crypto';
import { nowSeconds as now } from '../clock';

export interface ScriptedClient {
  secret?: string;
  /** Registered public key for private_key_jwt. */
  publicJwk?: JWK;
  redirectUris: string[];
}

interface Grant { clientId: string; sub: string; authTime: number; sid: string; scope: string; revoked: boolean }
interface PendingCode { grant: Grant; redirectUri: string; codeChallenge: string; nonce?: string; used: boolean }
interface RefreshRecord { grant: Grant; used: boolean }

export interface TokenCall { grantType: string; clientId: string; authMethod: string; assertionAlg?: string }

export interface AuthorizeOptions {
  sub?: string;
  /** Unix seconds of the user's authentication (ID token `auth_time`); default now. */
  authTime?: number;
  /** Leave `auth_time` out of the ID token. */
  omitAuthTime?: boolean;
  /** Answer with this front-channel error instead of a code (RFC 6749 §4.1.2.1). */
  error?: string;
}

const random = () => randomBytes(24).toString('base64url');

export class ScriptedIdentityServer {
  readonly issuer: string;
  readonly clients = new Map<string, ScriptedClient>();
  /** Metadata switches: a provider without RFC 7009 revocation or RP-initiated logout. */
  revocationEndpoint = true;
  endSessionEndpoint = true;
  /** RFC 6749 §6: issue a new refresh token on every refresh (and make the old one unusable). */
  rotateRefreshTokens = true;
  /** Whether refresh responses carry a new ID token, and claims to override in it (OIDC Core §12.2). */
  refreshIdToken: false | { sub?: string; iss?: string } = {};
  accessTokenSeconds = 300;
  /** UserInfo answers for this subject instead of the grant's (OIDC Core §5.3.2 says the BFF must refuse it). */
  userInfoSub: string | undefined;
  /** Every request fails: 'network' rejects like fetch does when the connection fails, a number is an HTTP status. */
  outage: false | 'network' | number = false;
  /** Only the token endpoint fails this way. */
  tokenEndpointOutage: false | 'network' | number = false;
  /** The next token response is this OAuth error instead (RFC 6749 §5.2), e.g. `{ status: 401, error: 'invalid_client' }`. */
  nextTokenError: { status: number; error: string } | undefined;

  readonly tokenCalls: TokenCall[] = [];
  readonly revoked: string[] = [];
  readonly requests: string[] = [];

  private key!: SigningKey;
  private readonly codes = new Map<string, PendingCode>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();

  private constructor(issuer: string) { this.issuer = issuer; }

  static async start(issuer = 'https://idp.example'): Promise<ScriptedIdentityServer> {
    const server = new ScriptedIdentityServer(issuer);
    server.key = await createSigningKey();
    return server;
  }

  private url(path: string): string { return `${this.issuer.replace(/\/$/, '')}${path}`; }

  metadata(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      authorization_endpoint: this.url('/authorize'),
      token_endpoint: this.url('/token'),
      userinfo_endpoint: this.url('/userinfo'),
      jwks_uri: this.url('/jwks'),
      ...(this.revocationEndpoint ? { revocation_endpoint: this.url('/revoke') } : {}),
      ...(this.endSessionEndpoint ? { end_session_endpoint: this.url('/session/end') } : {}),
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256', 'EdDSA'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  /** openid-client's customFetch: every back-channel request of the BFF arrives here. */
  readonly fetch = async (url: string, options: { method?: string; headers?: unknown; body?: unknown }): Promise<Response> => {
    const request = new Request(url, options as RequestInit);
    const path = new URL(request.url).pathname;
    this.requests.push(`${request.method} ${path}`);
    if (this.outage === 'network') throw new TypeError('fetch failed');
    if (this.outage) return new Response('unavailable', { status: this.outage });
    switch (`${request.method} ${path}`) {
      case 'GET /.well-known/openid-configuration': return Response.json(this.metadata());
      case 'GET /jwks': return Response.json({ keys: [this.key.publicJwk] });
      case 'POST /token': return this.token(request);
      case 'GET /userinfo': case 'POST /userinfo': return this.userInfo(request);
      case 'POST /revoke': if (this.revocationEndpoint) return this.revoke(request); break;
    }
    return Response.json({ error: 'not_found' }, { status: 404 });
  };

  /**
   * The front channel: the user signs in at the authorization endpoint and is redirected back.
   * Checks the request as an OpenID Provider would and returns the redirect URL (the SPA's page URL).
   */
  authorize(authorizationRequestUrl: string, options: AuthorizeOptions = {}): string {
    const request = new URL(authorizationRequestUrl);
    if (request.origin + request.pathname !== this.url('/authorize')) throw new Error('not this provider\'s authorization endpoint');
    const p = request.searchParams;
    const client = this.clients.get(p.get('client_id') ?? '');
    const redirectUri = p.get('redirect_uri') ?? '';
    if (!client || !client.redirectUris.includes(redirectUri)) throw new Error(`unregistered client or redirect_uri ${redirectUri}`);
    if (p.get('response_type') !== 'code' || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge')) {
      throw new Error('not an authorization code request with PKCE S256');
    }
    const back = new URL(redirectUri);
    back.searchParams.set('state', p.get('state') ?? '');
    back.searchParams.set('iss', this.issuer);
    if (options.error) {
      back.searchParams.set('error', options.error);
      back.searchParams.set('error_description', 'scripted <b>description</b> that must never be echoed');
      return back.href;
    }
    const grant: Grant = {
      clientId: p.get('client_id')!, sub: options.sub ?? 'alice', authTime: options.omitAuthTime ? -1 : options.authTime ?? now(),
      sid: random(), scope: p.get('scope') ?? 'openid', revoked: false,
    };
    const code = random();
    this.codes.set(code, { grant, redirectUri, codeChallenge: p.get('code_challenge')!, nonce: p.get('nonce') ?? undefined, used: false });
    back.searchParams.set('code', code);
    return back.href;
  }

  /** The user's grants end at the provider (e.g. signed out elsewhere): every refresh token is then invalid_grant. */
  revokeAllGrants(): void {
    for (const record of this.refreshTokens.values()) record.grant.revoked = true;
  }

  /** Access tokens issued so far stop being accepted at UserInfo. */
  expireAccessTokens(): void {
    for (const record of this.accessTokens.values()) record.expiresAt = 0;
  }

  private async authenticateClient(request: Request, form: URLSearchParams): Promise<{ clientId: string; method: string; alg?: string } | undefined> {
    const basic = request.headers.get('authorization');
    if (basic?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(basic.slice(6), 'base64').toString('utf8').split(':').map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
      const client = this.clients.get(id ?? '');
      return client?.secret !== undefined && client.secret === secret ? { clientId: id!, method: 'client_secret_basic' } : undefined;
    }
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return undefined;
      const clientId = form.get('client_id') ?? JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString() || '{}').iss;
      const client = this.clients.get(clientId ?? '');
      if (!client?.publicJwk) return undefined;
      try {
        const { alg } = await verifyClientAssertion(assertion, client.publicJwk, clientId, [this.issuer, this.url('/token'), this.url('/revoke')]);
        return { clientId, method: 'private_key_jwt', alg };
      } catch { return undefined; }
    }
    const id = form.get('client_id');
    const client = this.clients.get(id ?? '');
    return client?.secret !== undefined && client.secret === form.get('client_secret') ? { clientId: id!, method: 'client_secret_post' } : undefined;
  }

  private async token(request: Request): Promise<Response> {
    if (this.tokenEndpointOutage === 'network') throw new TypeError('fetch failed');
    if (this.tokenEndpointOutage) return new Response('<html>bad gateway</html>', { status: this.tokenEndpointOutage });
    const form = new URLSearchParams(await request.text());
    const oauthError = (status: number, error: string) => Response.json({ error }, { status, headers: { 'cache-control': 'no-store' } });
    const client = await this.authenticateClient(request, form);
    if (!client) return oauthError(401, 'invalid_client');
    const grantType = form.get('grant_type') ?? '';
    this.tokenCalls.push({ grantType, clientId: client.clientId, authMethod: client.method, ...(client.alg ? { assertionAlg: client.alg } : {}) });
    if (this.nextTokenError) {
      const { status, error } = this.nextTokenError;
      this.nextTokenError = undefined;
      return oauthError(status, error);
    }
    if (grantType === 'authorization_code') {
      const pending = this.codes.get(form.get('code') ?? '');
      if (!pending || pending.grant.clientId !== client.clientId) return oauthError(400, 'invalid_grant');
      // RFC 6749 §4.1.2: a code is used once; RFC 7636 §4.6: the verifier must hash to the challenge.
      if (pending.used) { pending.grant.revoked = true; return oauthError(400, 'invalid_grant'); }
      pending.used = true;
      if (form.get('redirect_uri') !== pending.redirectUri) return oauthError(400, 'invalid_grant');
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== pending.codeChallenge) return oauthError(400, 'invalid_grant');
      return this.issue(pending.grant, { nonce: pending.nonce, idToken: {}, refreshToken: true });
    }
    if (grantType === 'refresh_token') {
      const old = form.get('refresh_token') ?? '';
      const record = this.refreshTokens.get(old);
      if (!record || record.grant.clientId !== client.clientId || record.grant.revoked) return oauthError(400, 'invalid_grant');
      // RFC 9700 §4.14.2: a rotated refresh token presented again means theft: the whole grant ends.
      if (record.used) { record.grant.revoked = true; return oauthError(400, 'invalid_grant'); }
      if (this.rotateRefreshTokens) record.used = true;
      return this.issue(record.grant, { idToken: this.refreshIdToken, refreshToken: this.rotateRefreshTokens });
    }
    return oauthError(400, 'unsupported_grant_type');
  }

  private async issue(grant: Grant, opts: { nonce?: string; idToken: false | { sub?: string; iss?: string }; refreshToken: boolean }): Promise<Response> {
    const issuedAt = now();
    const accessToken = random();
    this.accessTokens.set(accessToken, { grant, expiresAt: issuedAt + this.accessTokenSeconds });
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: this.accessTokenSeconds, scope: grant.scope };
    if (opts.refreshToken) {
      const refreshToken = random();
      this.refreshTokens.set(refreshToken, { grant, used: false });
      body.refresh_token = refreshToken;
    }
    if (opts.idToken) {
      body.id_token = await signIdToken(this.key, {
        iss: opts.idToken.iss ?? this.issuer, sub: opts.idToken.sub ?? grant.sub, aud: grant.clientId,
        iat: issuedAt, exp: issuedAt + 600, sid: grant.sid,
        ...(grant.authTime >= 0 ? { auth_time: grant.authTime } : {}),
        ...(opts.nonce ? { nonce: opts.nonce } : {}),
      });
    }
    return Response.json(body, { headers: { 'cache-control': 'no-store' } });
  }

  private userInfo(request: Request): Response {
    const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
    const record = this.accessTokens.get(token);
    // RFC 6750 §3.1: an unknown or expired access token is 401 invalid_token.
    if (!record || record.expiresAt <= now() || record.grant.revoked) {
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
    }
    const sub = this.userInfoSub ?? record.grant.sub;
    return Response.json({ sub, name: `User ${sub}`, email: `${sub}@example.com` });
  }

  private async revoke(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    if (!(await this.authenticateClient(request, form))) return Response.json({ error: 'invalid_client' }, { status: 401 });
    const token = form.get('token') ?? '';
    this.revoked.push(token);
    // RFC 7009 §2.1: revoking a refresh token also ends its grant.
    const record = this.refreshTokens.get(token);
    if (record) record.grant.revoked = true;
    return new Response(null, { status: 200 });
  }

  /** Whether a refresh token is still usable at the token endpoint. */
  isRefreshTokenActive(refreshToken: string): boolean {
    const record = this.refreshTokens.get(refreshToken);
    return !!record && !record.used && !record.grant.revoked;
  }

  get endSessionUrl(): string { return this.url('/session/end'); }
}
