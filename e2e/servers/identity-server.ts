// Local identity server: a real OpenID Provider (oidc-provider 9) for the demo and the tests.
// Stand-in for the user's IdP (Curity, Keycloak, Auth0, Okta …); never imports lib/.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, SignJWT, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import {
  ACCESS_TOKEN_ALG, CLOCK_TOLERANCE_SECONDS, buildProviderConfiguration, generateSigningKeys,
  type ClientAuthMethod,
} from './identity-config';
import { handleInteraction } from './identity-interactions';
import { createJwtAccessTokenSupport } from './identity-jwt-access-tokens';

export interface IdentityServerOptions {
  host?: string;
  port?: number;
  bffOrigins?: string[];
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  clientAuthMethod?: ClientAuthMethod;
  clientJwks?: JSONWebKeySet;
  apiAudience?: string;
  /** Issue a new refresh token at every refresh (default, like Curity/Okta) or keep the first (like many IdPs). */
  rotateRefreshTokens?: boolean;
  /** RFC 9126: advertise the PAR endpoint (default true). */
  par?: boolean;
  /** RFC 9449 §8: demand a DPoP nonce on every proof. */
  dpopNonce?: boolean;
  /** The FAPI 2.0 profile (identity-config.ts). */
  fapi2?: boolean;
  /** Pad JWT access tokens to about this many bytes with a groups-style claim (big-token tests). */
  accessTokenBytes?: number;
}

/** One event of the provider, recorded for tests ("exactly one refresh_token grant"). */
export interface GrantEvent {
  type: string;
  grantType?: string; // ctx.oidc.params.grant_type, when the event happened at the token endpoint
  clientId?: string;
  /** How the client authenticated (token and revocation endpoints). oidc-provider itself accepts
   *  client_secret_basic and client_secret_post interchangeably, so tests assert on this instead. */
  clientAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  error?: string;
  errorDescription?: string;
  /** oidc-provider's internal reason, e.g. "refresh token already used" (never sent to clients). */
  errorDetail?: string;
  at: number; // Date.now()
}

export interface IdentityServer {
  issuer: string;
  port: number;
  close(): Promise<void>;
  events: GrantEvent[];
  clearEvents(): void;
}

const MAX_EVENTS = 10_000; // oldest dropped first, so a long demo run stays bounded

const RECORDED_EVENTS = [
  'authorization.accepted', 'authorization.success', 'authorization.error',
  'interaction.started', 'interaction.ended',
  'grant.success', 'grant.error', 'grant.revoked',
  'authorization_code.saved', 'authorization_code.consumed', 'authorization_code.destroyed',
  'refresh_token.saved', 'refresh_token.consumed', 'refresh_token.destroyed',
  'access_token.issued', 'access_token.saved', 'access_token.destroyed',
  'userinfo.error', 'revocation.error', 'end_session.success', 'end_session.error',
  'end_session_confirm.error', 'discovery.error', 'jwks.error', 'server_error',
];

export function envSeconds(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive whole number of seconds, e.g. ${name}=${fallback}; got "${raw}"`);
  }
  return value;
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

/* eslint-disable @typescript-eslint/no-explicit-any -- oidc-provider ships no types */
function describe(type: string, args: any[]): GrantEvent {
  const koaCtx = args[0]?.oidc !== undefined && args[0]?.request ? args[0] : (Provider as any).ctx;
  const event: GrantEvent = { type, at: Date.now() };
  try {
    const oidc = koaCtx?.oidc;
    const grantType = oidc?.params?.grant_type;
    if (typeof grantType === 'string') event.grantType = grantType;
    const clientId = oidc?.client?.clientId ?? args[0]?.clientId;
    if (typeof clientId === 'string') event.clientId = clientId;
    if (oidc?.route === 'token' || oidc?.route === 'revocation') {
      if (oidc.params?.client_assertion) event.clientAuthMethod = 'private_key_jwt';
      else if (oidc.params?.client_secret) event.clientAuthMethod = 'client_secret_post';
      else if (/^basic /i.test(koaCtx.headers?.authorization ?? '')) event.clientAuthMethod = 'client_secret_basic';
    }
  } catch { /* not every context has OIDC parameters */ }
  const err = args.find((a) => a instanceof Error) as (Error & Record<string, string | undefined>) | undefined;
  if (err) {
    event.error = err.error ?? err.name;
    if (err.error_description) event.errorDescription = err.error_description;
    if (err.error_detail) event.errorDetail = err.error_detail;
  }
  return event;
}

export async function startIdentityServer(opts: IdentityServerOptions = {}): Promise<IdentityServer> {
  const host = opts.host ?? '127.0.0.1';
  const events: GrantEvent[] = [];
  const record = (event: GrantEvent) => {
    events.push(event);
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
  };
  let provider: any;
  let callback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let signingKey: JWK | undefined;

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/__test/events') {
      if (req.method === 'GET') return sendJson(res, 200, events);
      if (req.method === 'DELETE') { events.length = 0; return sendJson(res, 204, undefined); }
      return sendJson(res, 405, { error: 'method_not_allowed' });
    }
    if (path === '/__test/logout-token' && req.method === 'POST' && signingKey) {
      signLogoutToken(req, signingKey).then((token) => sendJson(res, 200, { token }), (err) => sendJson(res, 400, { error: String(err) }));
      return undefined;
    }
    if (!callback) return sendJson(res, 503, { error: 'starting' });
    if (path.startsWith('/interaction/')) {
      handleInteraction(provider, req, res, path).catch((err) => {
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(err?.message ?? err) });
        else res.destroy();
      });
      return undefined;
    }
    return callback(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 4000, host, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  try {
    const { privateJwks, publicJwks } = await generateSigningKeys();
    signingKey = privateJwks.keys.find((k) => k.alg === 'RS256');
    const jwtSupport = createJwtAccessTokenSupport({ padToBytes: opts.accessTokenBytes });
    const configuration = buildProviderConfiguration({
      bffOrigins: opts.bffOrigins ?? ['http://localhost:3000'],
      accessTokenTtl: opts.accessTokenTtl ?? envSeconds('DEMO_ACCESS_TOKEN_TTL', 300),
      refreshTokenTtl: opts.refreshTokenTtl ?? envSeconds('DEMO_REFRESH_TOKEN_TTL', 86400),
      clientAuthMethod: opts.clientAuthMethod ?? 'client_secret_basic',
      clientJwks: opts.clientJwks,
      rotateRefreshTokens: opts.rotateRefreshTokens ?? true,
      apiAudience: opts.apiAudience ?? 'http://127.0.0.1:4001',
      par: opts.par,
      dpopNonce: opts.dpopNonce,
      fapi2: opts.fapi2,
      jwtCustomizer: jwtSupport.customizer as never,
    }, privateJwks);
    provider = new Provider(issuer, configuration as any);
    jwtSupport.install(provider, {
      issuer, publicJwks, algorithms: [ACCESS_TOKEN_ALG], clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });

    for (const type of RECORDED_EVENTS) provider.on(type, (...args: any[]) => record(describe(type, args)));
    // oidc-provider emits no success event for these two routes; record them for the witness.
    provider.use(async (ctx: any, next: () => Promise<void>) => {
      await next();
      const route = ctx._matchedRouteName;
      if ((route === 'revocation' || route === 'userinfo') && ctx.status === 200) {
        record(describe(`${route}.success`, [ctx]));
      }
    });
    callback = provider.callback();
  } catch (err) {
    server.close();
    throw err;
  }

  return {
    issuer,
    port,
    events,
    clearEvents: () => { events.length = 0; },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * Test hook: signs the posted claims (and protected header) with the identity server's own RS256 key,
 * so the back-channel logout suite can send tokens that are genuine in every respect but the one rule
 * each case breaks. Like /__test/events, it exists because this is a dev-only stand-in identity server.
 */
async function signLogoutToken(req: IncomingMessage, jwk: JWK): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  const { claims, header } = JSON.parse(text) as { claims: JWTPayload; header?: Record<string, unknown> };
  const key = await importJWK(jwk, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid, ...header }).sign(key);
}
