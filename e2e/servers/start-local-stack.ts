// Starts the local identity server and the sample API (`npm run dev:servers`); also imported by
// the demo launcher. Reads IDP_PORT, API_PORT, BFF_ORIGINS, DEMO_ACCESS_TOKEN_TTL and
// DEMO_REFRESH_TOKEN_TTL from the environment.
import { pathToFileURL } from 'node:url';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD } from './identity-config';
import { envSeconds, startIdentityServer, type IdentityServer, type IdentityServerOptions } from './identity-server';
import { startSampleApi, type SampleApi } from './sample-api';

export interface LocalStackOptions {
  host?: string;
  idpPort?: number;
  apiPort?: number;
  bffOrigins?: string[];
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  clientAuthMethod?: IdentityServerOptions['clientAuthMethod'];
  clientJwks?: IdentityServerOptions['clientJwks'];
  rotateRefreshTokens?: boolean;
  /** Identity server without PAR (`false`), demanding DPoP nonces, or in its FAPI 2.0 profile. */
  par?: boolean;
  dpopNonce?: boolean;
  fapi2?: boolean;
  /** Pad the identity server's JWT access tokens to about this many bytes (groups-style claim). */
  accessTokenBytes?: number;
  /** The sample API demands a DPoP nonce (RFC 9449 §9). */
  apiDpopNonce?: boolean;
}

export interface LocalStack {
  /** The identity server's issuer (also `identity.issuer`). */
  issuer: string;
  /** The sample API's base URL (also `api.url`); the audience of the access tokens. */
  apiUrl: string;
  identity: IdentityServer;
  api: SampleApi;
  close(): Promise<void>;
}

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${name} must be a TCP port (0-65535), e.g. ${name}=${fallback}; got "${raw}"`);
  }
  return value;
}

function envOrigins(): string[] {
  const raw = process.env.BFF_ORIGINS;
  if (!raw) return ['http://localhost:3000'];
  return raw.split(',').map((s) => s.trim()).filter(Boolean).map((value) => {
    const url = URL.parse(value);
    if (!url || url.origin !== value.replace(/\/$/, '')) {
      throw new Error(`BFF_ORIGINS must be a comma-separated list of origins, e.g. BFF_ORIGINS=http://localhost:3000; got "${value}"`);
    }
    return url.origin;
  });
}

/** Starts the sample API, then the identity server minting tokens for it. Options override env. */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  let issuer = '';
  const api = await startSampleApi({
    host: opts.host,
    port: opts.apiPort ?? envPort('API_PORT', 4001),
    issuer: () => issuer,
    dpopNonce: opts.apiDpopNonce,
  });
  let identity: IdentityServer;
  try {
    identity = await startIdentityServer({
      host: opts.host,
      port: opts.idpPort ?? envPort('IDP_PORT', 4000),
      bffOrigins: opts.bffOrigins ?? envOrigins(),
      accessTokenTtl: opts.accessTokenTtl ?? envSeconds('DEMO_ACCESS_TOKEN_TTL', 300),
      refreshTokenTtl: opts.refreshTokenTtl ?? envSeconds('DEMO_REFRESH_TOKEN_TTL', 86400),
      clientAuthMethod: opts.clientAuthMethod,
      clientJwks: opts.clientJwks,
      rotateRefreshTokens: opts.rotateRefreshTokens,
      apiAudience: api.url,
      par: opts.par,
      dpopNonce: opts.dpopNonce,
      fapi2: opts.fapi2,
      accessTokenBytes: opts.accessTokenBytes,
    });
  } catch (err) {
    await api.close();
    throw err;
  }
  issuer = identity.issuer;
  return {
    issuer: identity.issuer,
    apiUrl: api.url,
    identity,
    api,
    close: async () => { await Promise.all([identity.close(), api.close()]); },
  };
}

async function main() {
  const stack = await startLocalStack();
  console.log(`Identity server  ${stack.issuer}   (client ${DEMO_CLIENT_ID} / dev-only secret ${DEMO_CLIENT_SECRET})`);
  console.log(`Sample API       ${stack.apiUrl}`);
  console.log(`Demo login       any username / ${DEMO_PASSWORD}`);
  console.log(`BFF environment  OIDC_ISSUER=${stack.issuer} OIDC_CLIENT_ID=${DEMO_CLIENT_ID} OIDC_CLIENT_SECRET=${DEMO_CLIENT_SECRET} API_ROUTES=/api=${stack.apiUrl}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    stack.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
