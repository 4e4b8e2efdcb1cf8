// The one place that reads the environment. `loadConfig(env)` is pure; `getConfig()` memoises it
// for process.env. Every problem is collected and reported at once, naming the variable.
import { loadApps } from './apps/load-apps';
import { ClientKeyError, parseClientPrivateKey, type ClientPrivateKey } from './client-private-key';

export type TokenAuthMethod = OidcClientAuthentication['tokenAuthMethod'];
export type ParMode = 'auto' | 'always' | 'never';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * How the client authenticates at the token and revocation endpoints (RFC 6749 §2.3, OIDC Core §9):
 * a secret exactly with a secret method, a private key exactly with private_key_jwt.
 */
export type OidcClientAuthentication =
  | { readonly tokenAuthMethod: 'client_secret_basic' | 'client_secret_post'; readonly clientSecret: string }
  | {
    readonly tokenAuthMethod: 'private_key_jwt';
    /** The signing key of client assertions (RFC 7523 §2.2), imported and checked at start-up. */
    readonly clientPrivateKey: ClientPrivateKey;
  };

export type OidcConfig = OidcClientAuthentication & {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  /** OIDC_PAR: push the authorization request (RFC 9126) when advertised (`auto`), always, or never. */
  readonly par: ParMode;
  /** OIDC_DPOP: sender-constrained tokens (RFC 9449), one key pair per session. */
  readonly dpop: boolean;
};

export interface ApiRoute {
  /** Path prefix on the public origin, on a segment boundary, e.g. `/api/orders`. */
  readonly prefix: string;
  /** Upstream base URL without a trailing slash, e.g. `http://orders:8080/v1`. */
  readonly upstream: string;
}

/** One SPA of a multi-app deployment (contract §8, `APPS`); absent in single-app mode. */
export interface AppIdentity {
  /** The id from APPS, `[a-z][a-z0-9-]*`; bound into every sealed cookie of the app. */
  readonly id: string;
  /** `/` or a path without trailing slash, e.g. `/shop`: the app's routes, cookie Path and redirect URIs live under it. */
  readonly basePath: string;
  /** Directory under public/ holding the app's static files: the base path, or `/<id>` for an app at `/`. */
  readonly staticDir: string;
}

export interface Config {
  /** The app this configuration belongs to; undefined without APPS (one app, exactly as before). */
  readonly app?: AppIdentity;
  /** With APPS: every app's configuration, in APPS order (this object is the first's). */
  readonly apps?: readonly Config[];
  readonly publicOrigin: string;
  /** Cookies get `Secure` and the `__Host-` prefix (RFC 6265bis §4.1.3.2) on https and on localhost. */
  readonly secureCookies: boolean;
  readonly oidc: OidcConfig;
  readonly cookiePrefix: string;
  /** The first key encrypts; every key decrypts (rotation). */
  readonly cookieKeys: readonly Buffer[];
  /** Sorted longest prefix first, so the first match is the longest. */
  readonly apiRoutes: readonly ApiRoute[];
  readonly port: number;
  readonly upstreamTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly refreshMarginSeconds: number;
  readonly refreshGraceSeconds: number;
  readonly sessionMaxAgeSeconds: number;
  readonly logLevel: LogLevel;
  /** Honour X-Forwarded-For from the one reverse proxy in front of us (off unless configured). */
  readonly trustProxy: boolean;
  /** The shared session store (docs/contract.md §6), absent without SESSION_STORE_URL. */
  readonly sessionStore: SessionStoreConfig | undefined;
  /** METRICS_PORT: Prometheus text on a listener of its own (docs/contract.md §9); undefined = no metrics. */
  readonly metricsPort: number | undefined;
  /** OTEL_EXPORTER_OTLP_*: traces exported over OTLP/HTTP (docs/contract.md §9); undefined = no traces. */
  readonly otel: OtelConfig | undefined;
}

export interface SessionStoreConfig {
  /** The URL as given, credentials included: only lib/store/redis-client.ts reads it. Never log it. */
  readonly url: string;
  /** The URL without credentials, safe for logs (e.g. `rediss://cache.example.com:6380/0`). */
  readonly displayUrl: string;
  /** Prefix of every key and channel the BFF uses. */
  readonly prefix: string;
}

export interface OtelConfig {
  /** The OTLP base URL; traces go to `<endpoint>/v1/traces` (OTLP exporter specification). */
  readonly endpoint: string;
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly serviceName: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const EXAMPLES: Record<string, string> = {
  PUBLIC_ORIGIN: 'PUBLIC_ORIGIN=https://www.example.com',
  OIDC_ISSUER: 'OIDC_ISSUER=https://login.example.com/oauth/v2/oauth-anonymous',
  OIDC_CLIENT_ID: 'OIDC_CLIENT_ID=spa-bff',
  OIDC_CLIENT_SECRET: 'OIDC_CLIENT_SECRET=<the client secret registered at the identity server>',
  OIDC_TOKEN_AUTH_METHOD: 'OIDC_TOKEN_AUTH_METHOD=client_secret_basic',
  OIDC_CLIENT_PRIVATE_KEY: 'OIDC_CLIENT_PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\\n..." or a private JWK as JSON',
  OIDC_SCOPE: 'OIDC_SCOPE="openid profile offline_access"',
  OIDC_PAR: 'OIDC_PAR=auto',
  OIDC_DPOP: 'OIDC_DPOP=false',
  OIDC_REDIRECT_PATH: 'OIDC_REDIRECT_PATH=/',
  OIDC_POST_LOGOUT_REDIRECT_PATH: 'OIDC_POST_LOGOUT_REDIRECT_PATH=/',
  COOKIE_PREFIX: 'COOKIE_PREFIX=th',
  COOKIE_KEYS: 'COOKIE_KEYS=<64 hex chars, e.g. from `openssl rand -hex 32`>[,<older key>]',
  API_ROUTES: 'API_ROUTES="/api/orders=http://orders:8080/v1,/api=http://api:8080"',
  PORT: 'PORT=3000',
  UPSTREAM_TIMEOUT_MS: 'UPSTREAM_TIMEOUT_MS=30000',
  MAX_BODY_BYTES: 'MAX_BODY_BYTES=10485760',
  REFRESH_MARGIN_SECONDS: 'REFRESH_MARGIN_SECONDS=30',
  REFRESH_GRACE_SECONDS: 'REFRESH_GRACE_SECONDS=60',
  SESSION_MAX_AGE_SECONDS: 'SESSION_MAX_AGE_SECONDS=86400',
  LOG_LEVEL: 'LOG_LEVEL=info',
  TRUST_PROXY: 'TRUST_PROXY=false',
  SESSION_STORE_URL: 'SESSION_STORE_URL=rediss://:<password>@cache.example.com:6380/0',
  SESSION_STORE_PREFIX: 'SESSION_STORE_PREFIX=nth:',
  METRICS_PORT: 'METRICS_PORT=9464',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf',
  OTEL_SERVICE_NAME: 'OTEL_SERVICE_NAME=next-token-handler',
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function loadConfig(env: Env): Config {
  // Contract §8: without APPS, one app, exactly as before (no app selection anywhere).
  if (env.APPS === undefined || env.APPS.trim() === '') {
    const problems: string[] = [];
    const config = loadAppConfig(env, problems);
    if (problems.length > 0 || !config) throw new ConfigError(problems);
    return config;
  }
  return loadApps(env, loadAppConfig);
}

/** The name of APP_<ID>_<VARIABLE> for an app id (contract §4: upper-cased, `-` → `_`). */
export const appVariable = (id: string, name: string) => `APP_${id.toUpperCase().replace(/-/g, '_')}_${name}`;

/**
 * One app's configuration from the unprefixed variables, each overridden by APP_<ID>_<VARIABLE> when
 * `app` is given. Problems are appended to `problems`, each naming the variable that supplied the value.
 */
export function loadAppConfig(env: Env, problems: string[], app?: { id: string; basePath: string }): Config | undefined {
  const read = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  // Which variable a value came from: the app's own, else the shared default.
  const source = (name: string): string => (app && read(appVariable(app.id, name)) !== undefined ? appVariable(app.id, name) : name);
  const bad = (name: string, why: string): undefined => {
    const shown = app && why === 'is missing' ? `${appVariable(app.id, name)} (or ${name})` : source(name);
    problems.push(`${shown} ${why} (example: ${EXAMPLES[name] ?? name})`);
    return undefined;
  };
  const text = (name: string): string | undefined => read(source(name));
  const required = (name: string): string | undefined => text(name) ?? bad(name, 'is missing');
  const problemsBefore = problems.length;

  const publicOrigin = parseOrigin(required('PUBLIC_ORIGIN'), bad);
  const issuer = parseIssuer(required('OIDC_ISSUER'), publicOrigin, bad);
  const clientId = required('OIDC_CLIENT_ID');

  const clientAuthentication = parseClientAuthentication(text, required, bad);
  const scope = text('OIDC_SCOPE') ?? 'openid profile offline_access';
  if (!scope.split(/\s+/).includes('openid')) bad('OIDC_SCOPE', 'must include "openid"');

  const par = oneOf(text('OIDC_PAR') ?? 'auto', ['auto', 'always', 'never'] as const, 'OIDC_PAR', bad);
  const dpop = oneOf(text('OIDC_DPOP') ?? 'false', ['true', 'false'] as const, 'OIDC_DPOP', bad) === 'true';

  const redirectPath = parsePath('OIDC_REDIRECT_PATH', text('OIDC_REDIRECT_PATH') ?? '/', bad);
  const logoutPath = parsePath('OIDC_POST_LOGOUT_REDIRECT_PATH', text('OIDC_POST_LOGOUT_REDIRECT_PATH') ?? '/', bad);

  // Contract §8: an app's prefix defaults to <COOKIE_PREFIX>-<id>, so apps never share cookie names.
  const cookiePrefix = app
    ? read(appVariable(app.id, 'COOKIE_PREFIX')) ?? `${read('COOKIE_PREFIX') ?? 'th'}-${app.id}`
    : text('COOKIE_PREFIX') ?? 'th';
  // Also used in the header name x-{prefix}-csrf, and the proxy drops header names with `_`.
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/.test(cookiePrefix)) bad('COOKIE_PREFIX', 'must be 1-32 letters, digits or dashes');
  const cookieKeys = parseKeys(required('COOKIE_KEYS'), bad);
  const apiRoutes = parseApiRoutes(required('API_ROUTES'), bad, app?.basePath);

  const int = (name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = text(name);
    if (raw === undefined) return dflt;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) bad(name, `must be a whole number from ${min} to ${max}`);
    return n;
  };
  const port = int('PORT', 3000, 1, 65535);
  const upstreamTimeoutMs = int('UPSTREAM_TIMEOUT_MS', 30000, 1);
  const maxBodyBytes = int('MAX_BODY_BYTES', 10485760, 1);
  const refreshMarginSeconds = int('REFRESH_MARGIN_SECONDS', 30, 0);
  const refreshGraceSeconds = int('REFRESH_GRACE_SECONDS', 60, 0, 3600);
  const sessionMaxAgeSeconds = int('SESSION_MAX_AGE_SECONDS', 86400, 60);
  const logLevel = oneOf(text('LOG_LEVEL') ?? 'info', ['debug', 'info', 'warn', 'error'] as const, 'LOG_LEVEL', bad);
  const trustProxy = oneOf(text('TRUST_PROXY') ?? 'false', ['true', 'false'] as const, 'TRUST_PROXY', bad) === 'true';
  const sessionStore = parseSessionStore(text('SESSION_STORE_URL'), text('SESSION_STORE_PREFIX'), bad);
  const metricsPort = text('METRICS_PORT') === undefined ? undefined : int('METRICS_PORT', 0, 1, 65535);
  // Contract §9: never the public port.
  if (metricsPort !== undefined && metricsPort === port) bad('METRICS_PORT', `must differ from PORT (${port}): the public port never serves metrics`);
  const otel = parseOtel(text, bad);

  if (problems.length > problemsBefore || !publicOrigin || !issuer || !clientId || !cookieKeys || !apiRoutes
    || !clientAuthentication || !par || !redirectPath || !logoutPath || !logLevel) {
    return undefined;
  }
  const origin = new URL(publicOrigin);
  // Contract §8: an app's redirect URIs are its origin + base path + the configured path.
  const base = app && app.basePath !== '/' ? app.basePath : '';
  return Object.freeze({
    ...(app ? { app: Object.freeze({ id: app.id, basePath: app.basePath, staticDir: app.basePath === '/' ? `/${app.id}` : app.basePath }) } : {}),
    publicOrigin,
    secureCookies: origin.protocol === 'https:' || LOOPBACK_HOSTS.has(origin.hostname),
    oidc: Object.freeze({
      ...clientAuthentication, issuer, clientId, scope,
      redirectUri: new URL(base + redirectPath, publicOrigin).href,
      postLogoutRedirectUri: new URL(base + logoutPath, publicOrigin).href,
      par, dpop,
    }),
    cookiePrefix,
    cookieKeys: Object.freeze(cookieKeys),
    apiRoutes: Object.freeze(apiRoutes),
    port, upstreamTimeoutMs, maxBodyBytes, refreshMarginSeconds, refreshGraceSeconds, sessionMaxAgeSeconds,
    logLevel, trustProxy, metricsPort, otel,
    sessionStore: sessionStore && Object.freeze(sessionStore),
  });
}

function parseClientAuthentication(
  text: (name: string) => string | undefined, required: (name: string) => string | undefined, bad: Bad,
): OidcClientAuthentication | undefined {
  const method = oneOf(text('OIDC_TOKEN_AUTH_METHOD') ?? 'client_secret_basic',
    ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const, 'OIDC_TOKEN_AUTH_METHOD', bad);
  if (method === undefined) return undefined;
  if (method === 'private_key_jwt') {
    // A secret that is never sent is no secret: private_key_jwt needs the key instead (OIDC_CLIENT_SECRET is ignored).
    const clientPrivateKey = checkPrivateKey(required('OIDC_CLIENT_PRIVATE_KEY'), bad);
    return clientPrivateKey && { tokenAuthMethod: method, clientPrivateKey };
  }
  const clientSecret = required('OIDC_CLIENT_SECRET');
  return clientSecret === undefined ? undefined : { tokenAuthMethod: method, clientSecret };
}

function parseOtel(text: (name: string) => string | undefined, bad: Bad): OtelConfig | undefined {
  const raw = text('OTEL_EXPORTER_OTLP_ENDPOINT');
  const protocol = oneOf(text('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf', ['http/protobuf', 'http/json'] as const,
    'OTEL_EXPORTER_OTLP_PROTOCOL', bad);
  if (raw === undefined) return undefined;
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    return bad('OTEL_EXPORTER_OTLP_ENDPOINT', 'must be an http(s) URL without query or fragment (OTLP/HTTP; gRPC is not supported)');
  }
  if (!protocol) return undefined;
  return Object.freeze({ endpoint: url.href.replace(/\/+$/, ''), protocol, serviceName: text('OTEL_SERVICE_NAME') ?? 'next-token-handler' });
}

type Bad = (name: string, why: string) => undefined;

function parseOrigin(raw: string | undefined, bad: Bad): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try { url = new URL(raw); } catch { return bad('PUBLIC_ORIGIN', 'is not a URL'); }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return bad('PUBLIC_ORIGIN', 'must be http(s)');
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    return bad('PUBLIC_ORIGIN', 'must be an origin only (scheme, host, optional port; no path)');
  }
  // RFC 6265bis §4.1.2.5: Secure cookies need https; plain http is for local development only.
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return bad('PUBLIC_ORIGIN', 'must be https unless the host is localhost or 127.0.0.1');
  }
  return url.origin;
}

function parseIssuer(raw: string | undefined, publicOrigin: string | undefined, bad: Bad): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try { url = new URL(raw); } catch { return bad('OIDC_ISSUER', 'is not a URL'); }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return bad('OIDC_ISSUER', 'must be http(s)');
  if (url.search || url.hash) return bad('OIDC_ISSUER', 'must not have a query or fragment (OpenID Connect Discovery §2)');
  // RFC 9700 §2.6: back-channel calls carry the client secret and tokens; no plain http in production.
  if (url.protocol === 'http:' && publicOrigin?.startsWith('https:')) {
    return bad('OIDC_ISSUER', 'must be https when PUBLIC_ORIGIN is https');
  }
  // Kept exactly as given: discovery compares the metadata `issuer` with this string.
  return raw;
}

function checkPrivateKey(raw: string | undefined, bad: Bad): ClientPrivateKey | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseClientPrivateKey(raw);
  } catch (err) {
    if (err instanceof ClientKeyError) return bad('OIDC_CLIENT_PRIVATE_KEY', err.message);
    throw err;
  }
}

function parsePath(name: string, raw: string, bad: Bad): string | undefined {
  // Relative to PUBLIC_ORIGIN only: `//host` or `/\host` would leave the origin.
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return bad(name, 'must be a path starting with a single /');
  return raw;
}

function parseKeys(raw: string | undefined, bad: Bad): Buffer[] | undefined {
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((k) => k.trim());
  if (parts.some((k) => !/^[0-9a-fA-F]{64}$/.test(k))) {
    return bad('COOKIE_KEYS', 'must be comma-separated 32-byte keys, each 64 hex characters');
  }
  if (new Set(parts.map((k) => k.toLowerCase())).size !== parts.length) return bad('COOKIE_KEYS', 'lists a key twice');
  return parts.map((k) => Buffer.from(k, 'hex'));
}

/**
 * With a base path (contract §8) the prefixes are relative to it: `/api/orders` of the app at `/shop`
 * is stored as `/shop/api/orders`, so route matching works on the request's own path unchanged.
 */
export function parseApiRoutes(raw: string | undefined, bad: Bad, basePath = '/'): ApiRoute[] | undefined {
  const name = 'API_ROUTES';
  if (raw === undefined) return undefined;
  const base = basePath === '/' ? '' : basePath;
  const routes: ApiRoute[] = [];
  for (const [index, entry] of raw.split(',').map((e) => e.trim()).filter(Boolean).entries()) {
    const eq = entry.indexOf('=');
    const where = `entry ${index + 1}${/^\/[\w/.-]*$/.test(entry.slice(0, Math.max(eq, 0))) ? ` (${entry.slice(0, eq)})` : ''}`;
    const prefix = eq > 0 ? entry.slice(0, eq).trim() : '';
    const target = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (!/^\/api(\/[A-Za-z0-9._~-]+)*$/.test(prefix) || prefix.split('/').some((s) => s === '.' || s === '..')) {
      return bad(name, `has ${where}: the prefix must be /api or a path under /api without a trailing slash`);
    }
    let url: URL;
    try { url = new URL(target); } catch { return bad(name, `has ${where}: the upstream is not an absolute URL`); }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username || url.password) {
      return bad(name, `has ${where}: the upstream must be an http(s) URL without query, fragment or credentials`);
    }
    if (routes.some((r) => r.prefix === base + prefix)) return bad(name, `lists the prefix ${prefix} twice`);
    routes.push({ prefix: base + prefix, upstream: url.href.replace(/\/+$/, '') });
  }
  if (routes.length === 0) return bad(name, 'lists no route');
  return routes.sort((a, b) => b.prefix.length - a.prefix.length).map((r) => Object.freeze(r));
}

/**
 * `redis[s]://[user:password@]host[:port][/db]`. Messages never repeat the value: it may carry the
 * password (ASVS 5.0 V13.3.1: secrets never in logs).
 */
export function parseSessionStore(raw: string | undefined, rawPrefix: string | undefined, bad: Bad): SessionStoreConfig | undefined {
  const prefix = rawPrefix ?? 'nth:';
  if (!/^[A-Za-z0-9:._-]{1,64}$/.test(prefix)) bad('SESSION_STORE_PREFIX', 'must be 1-64 letters, digits or : . _ -');
  if (raw === undefined) return undefined;
  let url: URL;
  try { url = new URL(raw); } catch { return bad('SESSION_STORE_URL', 'is not a URL'); }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return bad('SESSION_STORE_URL', 'must start with redis:// or rediss:// (TLS)');
  if (!url.hostname) return bad('SESSION_STORE_URL', 'names no host');
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) return bad('SESSION_STORE_URL', 'has a port outside 1-65535');
  if (!/^\/?(\d{1,2})?$/.test(url.pathname)) return bad('SESSION_STORE_URL', 'must end in an optional database number (/0 … /99), nothing else');
  if (url.search || url.hash) return bad('SESSION_STORE_URL', 'must not have a query or fragment');
  const display = new URL(url.href);
  display.username = '';
  display.password = '';
  return { url: raw, displayUrl: display.href, prefix };
}

function oneOf<T extends string>(raw: string, allowed: readonly T[], name: string, bad: Bad): T | undefined {
  return (allowed as readonly string[]).includes(raw) ? (raw as T) : bad(name, `must be one of ${allowed.join(', ')}`);
}

let processConfig: Config | undefined;

/** The process-wide configuration, validated on first use (and at start-up by instrumentation.ts). */
export function getConfig(): Config {
  return (processConfig ??= loadConfig(process.env));
}
