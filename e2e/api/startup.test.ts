// Contract §4: a bad configuration stops the server at start, naming every bad variable.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port';
import { runUntilExit } from '../harness/run-until-exit';

describe.each([
  ['node', (port: number) => ['dist/server.mjs']],
  ['next', (port: number) => ['node_modules/next/dist/bin/next', 'start', '-p', String(port)]],
])('start-up validation (%s transport)', (_name, argsFor) => {
  it('exits non-zero with one message naming OIDC_ISSUER and COOKIE_KEYS', async () => {
    const port = await freePort();
    const { code, output } = await runUntilExit(argsFor(port), {
      PUBLIC_ORIGIN: `http://localhost:${port}`, PORT: String(port),
      OIDC_CLIENT_ID: 'demo-bff', OIDC_CLIENT_SECRET: 'demo-bff-secret',
      COOKIE_KEYS: '0123456789', API_ROUTES: '/api=http://127.0.0.1:4001',
    });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const message = output.slice(output.indexOf('Invalid configuration'));
    expect(message).toMatch(/OIDC_ISSUER is missing/);
    expect(message).toMatch(/COOKIE_KEYS must be/);
    expect(output).not.toContain('0123456789');
  });

  it('a private key that cannot sign (an Ed25519 JWK with alg ES256) stops start-up naming OIDC_CLIENT_PRIVATE_KEY', async () => {
    const port = await freePort();
    const jwk = JSON.stringify({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), alg: 'ES256' });
    const { code, output } = await runUntilExit(argsFor(port), {
      PUBLIC_ORIGIN: `http://localhost:${port}`, PORT: String(port), OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'demo-bff',
      OIDC_TOKEN_AUTH_METHOD: 'private_key_jwt', OIDC_CLIENT_PRIVATE_KEY: jwk,
      COOKIE_KEYS: 'a'.repeat(64), API_ROUTES: '/api=http://127.0.0.1:4001',
    });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(output.slice(output.indexOf('Invalid configuration'))).toMatch(/OIDC_CLIENT_PRIVATE_KEY has "alg": "ES256"/);
    expect(output).not.toContain(JSON.parse(jwk).d);
  });
});
