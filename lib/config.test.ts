import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ClientPrivateKey } from './client-private-key';
import { ConfigError, loadConfig, type Config, type Env, type OidcClientAuthentication } from './config';

const KEY = 'a'.repeat(64);
const VALID: Env = {
  PUBLIC_ORIGIN: 'https://www.example.com',
  OIDC_ISSUER: 'https://login.example.com/oauth/v2/oauth-anonymous',
  OIDC_CLIENT_ID: 'spa-bff',
  OIDC_CLIENT_SECRET: 's3cret',
  COOKIE_KEYS: KEY,
  API_ROUTES: '/api=http://api:8080,/api/orders=http://orders:8080/v1/',
};

function privateKeyOf(c: Config): ClientPrivateKey {
  if (c.oidc.tokenAuthMethod !== 'private_key_jwt') throw new Error(`expected private_key_jwt, got ${c.oidc.tokenAuthMethod}`);
  return c.oidc.clientPrivateKey;
}

function problemsOf(env: Env): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('accepts a valid environment, applies the contract defaults and freezes the result', () => {
    const c = loadConfig(VALID);
    expect(c.publicOrigin).toBe('https://www.example.com');
    expect(c.secureCookies).toBe(true);
    expect(c.oidc.tokenAuthMethod).toBe('client_secret_basic');
    expect(c.oidc.par).toBe('auto');
    expect(c.oidc.dpop).toBe(false);
    expect(c.oidc.scope).toBe('openid profile offline_access');
    expect(c.oidc.redirectUri).toBe('https://www.example.com/');
    expect(c.oidc.postLogoutRedirectUri).toBe('https://www.example.com/');
    expect(c.cookiePrefix).toBe('th');
    expect(c.cookieKeys[0]!.equals(Buffer.from(KEY, 'hex'))).toBe(true);
    expect(c.port).toBe(3000);
    expect(c.upstreamTimeoutMs).toBe(30000);
    expect(c.maxBodyBytes).toBe(10485760);
    expect(c.refreshMarginSeconds).toBe(30);
    expect(c.refreshGraceSeconds).toBe(60);
    expect(c.sessionMaxAgeSeconds).toBe(86400);
    expect(c.logLevel).toBe('info');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.oidc)).toBe(true);
    expect(Object.isFrozen(c.apiRoutes)).toBe(true);
  });

  it('sorts API routes longest prefix first and strips the upstream trailing slash', () => {
    const c = loadConfig(VALID);
    expect(c.apiRoutes).toEqual([
      { prefix: '/api/orders', upstream: 'http://orders:8080/v1' },
      { prefix: '/api', upstream: 'http://api:8080' },
    ]);
  });

  it('reports every missing required variable in one error, each with an example', () => {
    const problems = problemsOf({});
    for (const name of ['PUBLIC_ORIGIN', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'COOKIE_KEYS', 'API_ROUTES']) {
      const p = problems.find((x) => x.startsWith(`${name} `));
      expect(p, name).toBeDefined();
      expect(p).toContain('example:');
    }
  });

  it('names both variables when OIDC_ISSUER is missing and COOKIE_KEYS is 10 characters', () => {
    const { OIDC_ISSUER: _, ...rest } = VALID;
    const err = (() => { try { loadConfig({ ...rest, COOKIE_KEYS: '0123456789' }); } catch (e) { return e as Error; } })();
    expect(err?.message).toMatch(/OIDC_ISSUER/);
    expect(err?.message).toMatch(/COOKIE_KEYS/);
  });

  it.each([
    ['PUBLIC_ORIGIN', 'not a url'],
    ['PUBLIC_ORIGIN', 'https://www.example.com/app'],
    ['PUBLIC_ORIGIN', 'ftp://www.example.com'],
    ['PUBLIC_ORIGIN', 'http://www.example.com'],
    ['OIDC_ISSUER', 'login.example.com'],
    ['OIDC_ISSUER', 'https://login.example.com/?x=1'],
    ['OIDC_TOKEN_AUTH_METHOD', 'client_secret_jwt'],
    ['OIDC_PAR', 'sometimes'],
    ['OIDC_DPOP', 'yes'],
    ['OIDC_SCOPE', 'profile email'],
    ['OIDC_REDIRECT_PATH', 'https://evil.example/'],
    ['OIDC_REDIRECT_PATH', '//evil.example/'],
    ['OIDC_POST_LOGOUT_REDIRECT_PATH', '/\\evil.example'],
    ['COOKIE_PREFIX', 'th_x'],
    ['COOKIE_PREFIX', 'th;x'],
    ['COOKIE_KEYS', 'a'.repeat(62)],
    ['COOKIE_KEYS', 'z'.repeat(64)],
    ['COOKIE_KEYS', `${KEY},${KEY}`],
    ['API_ROUTES', '/orders=http://orders:8080'],
    ['API_ROUTES', '/api/=http://orders:8080'],
    ['API_ROUTES', '/api/../x=http://orders:8080'],
    ['API_ROUTES', '/api=orders:8080'],
    ['API_ROUTES', '/api=ftp://orders'],
    ['API_ROUTES', '/api=http://orders:8080/?q=1'],
    ['API_ROUTES', '/api=http://a:1,/api=http://b:2'],
    ['API_ROUTES', 'http://orders:8080'],
    ['PORT', '0'],
    ['PORT', '70000'],
    ['PORT', 'abc'],
    ['UPSTREAM_TIMEOUT_MS', '-5'],
    ['MAX_BODY_BYTES', '1.5'],
    ['REFRESH_MARGIN_SECONDS', 'soon'],
    ['SESSION_MAX_AGE_SECONDS', '10'],
    ['LOG_LEVEL', 'verbose'],
    ['TRUST_PROXY', 'yes'],
    ['METRICS_PORT', '99999'],
    ['METRICS_PORT', '3000'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
  ])('rejects %s=%s and names the variable', (name, value) => {
    const problems = problemsOf({ ...VALID, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`${name} `)).toBe(true);
  });

  it('refuses an http issuer when the public origin is https', () => {
    const problems = problemsOf({ ...VALID, OIDC_ISSUER: 'http://login.example.com' });
    expect(problems[0]).toMatch(/^OIDC_ISSUER .*https/);
  });

  it('allows plain http for local development on localhost, with Secure cookies still on', () => {
    const c = loadConfig({ ...VALID, PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000' });
    expect(c.publicOrigin).toBe('http://localhost:3000');
    expect(c.oidc.issuer).toBe('http://127.0.0.1:4000');
    expect(c.secureCookies).toBe(true);
  });

  it('requires a private key, not a secret, for private_key_jwt', () => {
    const { OIDC_CLIENT_SECRET: _, ...rest } = VALID;
    const problems = problemsOf({ ...rest, OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^OIDC_CLIENT_PRIVATE_KEY is missing/);
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    expect(loadConfig({ ...rest, OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: JSON.stringify(jwk) }).oidc)
      .toHaveProperty('clientPrivateKey.alg', 'ES256');
    expect(problemsOf({ ...rest, OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: 'nope' })[0]).toMatch(/^OIDC_CLIENT_PRIVATE_KEY/);
  });

  it('gives the oidc config exactly the credential of its auth method (a union on tokenAuthMethod)', () => {
    const { OIDC_CLIENT_SECRET: _, ...rest } = VALID;
    for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
      const { oidc } = loadConfig({ ...VALID, OIDC_TOKEN_AUTH_METHOD: method });
      expect(oidc).toMatchObject({ tokenAuthMethod: method, clientSecret: 's3cret' });
      expect(oidc).not.toHaveProperty('clientPrivateKey');
      expect(problemsOf({ ...rest, OIDC_TOKEN_AUTH_METHOD: method })).toEqual([expect.stringMatching(/^OIDC_CLIENT_SECRET is missing/)]);
    }
    const jwk = JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
    // A secret set next to private_key_jwt is never sent, so the config does not carry it.
    const { oidc } = loadConfig({ ...VALID, OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: jwk });
    expect(oidc.tokenAuthMethod).toBe('private_key_jwt');
    expect(oidc).not.toHaveProperty('clientSecret');
    expect(oidc).toHaveProperty('clientPrivateKey.alg', 'EdDSA');
    // Type level (tsc): the credential exists only once the method is known, and then without `!`.
    // @ts-expect-error -- clientSecret is not on every member of the union
    void oidc.clientSecret;
    if (oidc.tokenAuthMethod === 'private_key_jwt') expectTypeOf(oidc.clientPrivateKey).toEqualTypeOf<ClientPrivateKey>();
    else expectTypeOf(oidc.clientSecret).toEqualTypeOf<string>();
    expectTypeOf<Extract<OidcClientAuthentication, { tokenAuthMethod: 'private_key_jwt' }>>().not.toHaveProperty('clientSecret');
    expectTypeOf<Exclude<OidcClientAuthentication, { tokenAuthMethod: 'private_key_jwt' }>>().not.toHaveProperty('clientPrivateKey');
  });

  describe('OIDC_CLIENT_PRIVATE_KEY is imported at start-up', () => {
    const { OIDC_CLIENT_SECRET: _, ...rest } = VALID;
    const withKey = (key: string) => ({ ...rest, OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: key });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    const jwkOf = (k: KeyObject, extra: Record<string, string> = {}) => JSON.stringify({ ...k.export({ format: 'jwk' }), ...extra });
    const pemOf = (k: KeyObject, type: 'pkcs8' | 'pkcs1' | 'sec1' = 'pkcs8') => k.export({ type, format: 'pem' } as never).toString();

    it.each([
      ['RSA PKCS#8 PEM', pemOf(rsa), 'RS256'], ['RSA PKCS#1 PEM', pemOf(rsa, 'pkcs1'), 'RS256'], ['RSA JWK', jwkOf(rsa), 'RS256'],
      ['RSA JWK with alg PS256', jwkOf(rsa, { alg: 'PS256', kid: 'k1' }), 'PS256'],
      ['EC P-256 PKCS#8 PEM', pemOf(ec), 'ES256'], ['EC P-256 SEC1 PEM', pemOf(ec, 'sec1'), 'ES256'], ['EC P-256 JWK', jwkOf(ec), 'ES256'],
      ['EC P-256 JWK with alg', jwkOf(ec, { alg: 'ES256' }), 'ES256'],
      ['Ed25519 PEM', pemOf(ed), 'EdDSA'], ['Ed25519 JWK without alg', jwkOf(ed), 'EdDSA'], ['Ed25519 JWK with alg EdDSA', jwkOf(ed, { alg: 'EdDSA' }), 'EdDSA'],
      ['a PEM with escaped newlines (one-line env files)', pemOf(ec).replace(/\n/g, '\\n'), 'ES256'],
    ])('%s → %s', (_name, key, alg) => {
      const imported = privateKeyOf(loadConfig(withKey(key)));
      expect(imported.alg).toBe(alg);
      expect(imported.pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      if (key.includes('"kid"')) expect(imported.kid).toBe('k1');
    });

    it.each([
      ['garbage', 'not a key'],
      ['a public JWK', JSON.stringify(ec.export({ format: 'jwk' }), ['kty', 'crv', 'x', 'y'])],
      ['a JWK whose numbers are wrong', JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' })],
      ['an Ed25519 JWK with alg ES256', jwkOf(ed, { alg: 'ES256' })],
      ['an RSA JWK with alg HS256', jwkOf(rsa, { alg: 'HS256' })],
      ['an X25519 key (cannot sign)', pemOf(generateKeyPairSync('x25519').privateKey)],
      ['an RSA key of 1024 bits', pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)],
      ['an encrypted PEM', ec.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }).toString()],
      ['a truncated PEM', pemOf(ec).slice(0, 80) + '\n-----END PRIVATE KEY-----'],
      ['a symmetric JWK', JSON.stringify({ kty: 'oct', k: 'c2VjcmV0', d: 'x' })],
    ])('%s stops start-up naming OIDC_CLIENT_PRIVATE_KEY, without quoting the key', (_name, key) => {
      const problems = problemsOf(withKey(key));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^OIDC_CLIENT_PRIVATE_KEY /);
      if (key.length > 60) expect(problems[0]).not.toContain(key.slice(30, 60));
    });
  });

  it('keeps several cookie keys in order: the first encrypts', () => {
    const other = 'b'.repeat(64);
    const c = loadConfig({ ...VALID, COOKIE_KEYS: `${other}, ${KEY}` });
    expect(c.cookieKeys.map((k) => k.toString('hex'))).toEqual([other, KEY]);
  });

  it('never puts a secret value into the error message', () => {
    const err = (() => { try { loadConfig({ ...VALID, COOKIE_KEYS: 'topsecretvalue', PUBLIC_ORIGIN: '' }); } catch (e) { return e as Error; } })();
    expect(err?.message).not.toContain('topsecretvalue');
  });

  it('reads METRICS_PORT and the standard OTEL_* variables (docs/contract.md §9); both off by default', () => {
    expect(loadConfig(VALID).metricsPort).toBeUndefined();
    expect(loadConfig(VALID).otel).toBeUndefined();
    const c = loadConfig({ ...VALID, METRICS_PORT: '9464', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    expect(c.metricsPort).toBe(9464);
    expect(c.otel).toEqual({ endpoint: 'http://collector:4318', protocol: 'http/protobuf', serviceName: 'next-token-handler' });
    const json = loadConfig({ ...VALID, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'bff' });
    expect(json.otel).toEqual({ endpoint: 'https://c.example', protocol: 'http/json', serviceName: 'bff' });
  });
});
