// Proves the local stack behaves like a real deployment's IdP and API: discovery, authorization
// code + PKCE driven over plain HTTP, JWT access tokens accepted by the API and UserInfo,
// rotating refresh tokens, the event witness, the canary log and streamed SSE.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, loginAtIdentityServer } from './drive-login';
import { startLocalStack, type LocalStack } from './start-local-stack';

const BFF_ORIGIN = 'http://localhost:3000';
const REDIRECT_URI = `${BFF_ORIGIN}/`;
const BASIC = `Basic ${Buffer.from('demo-bff:demo-bff-secret').toString('base64')}`;

interface TokenResponse { access_token: string; refresh_token: string; id_token: string; token_type: string; error?: string }

let stack: LocalStack;
let metadata: Record<string, unknown>;

async function tokenRequest(params: Record<string, string>) {
  const res = await fetch(metadata.token_endpoint as string, {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: await res.json() as TokenResponse };
}

async function logIn(username: string) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(metadata.authorization_endpoint as string);
  url.search = new URLSearchParams({
    client_id: 'demo-bff', response_type: 'code', redirect_uri: REDIRECT_URI, state,
    scope: 'openid profile email offline_access', nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  }).toString();
  const final = new URL(await loginAtIdentityServer(url.href, username, new CookieJar()));
  return { final, state, verifier };
}

async function codeFlow(username: string) {
  const { final, verifier } = await logIn(username);
  const { status, body } = await tokenRequest({
    grant_type: 'authorization_code', code: final.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI, code_verifier: verifier,
  });
  expect(status).toBe(200);
  return body;
}

beforeAll(async () => {
  stack = await startLocalStack({ idpPort: 0, apiPort: 0, bffOrigins: [BFF_ORIGIN], accessTokenTtl: 120, refreshTokenTtl: 600 });
  metadata = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
});
afterAll(async () => { await stack?.close(); });

describe('local identity server', () => {
  it('publishes discovery metadata for its exact issuer', () => {
    expect(metadata.issuer).toBe(stack.issuer);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    for (const key of ['end_session_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'token_endpoint', 'jwks_uri']) {
      expect(metadata[key], key).toMatch(new RegExp(`^${stack.issuer}/`));
    }
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('answers /healthz', async () => {
    expect((await fetch(`${stack.issuer}/healthz`)).status).toBe(200);
  });

  it('refuses a wrong password on its login page', async () => {
    const url = new URL(metadata.authorization_endpoint as string);
    url.search = new URLSearchParams({
      client_id: 'demo-bff', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 'x',
      code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    await expect(loginAtIdentityServer(url.href, 'mallory', new CookieJar(), { password: 'wrong' })).rejects.toThrow(/401.*Invalid username or password/);
  });

  it('runs authorization code + PKCE and returns code, state and iss to the redirect URI', async () => {
    const { final, state } = await logIn('alice');
    expect(`${final.origin}${final.pathname}`).toBe(REDIRECT_URI);
    expect(final.searchParams.get('state')).toBe(state);
    expect(final.searchParams.get('iss')).toBe(stack.issuer);
    expect(final.searchParams.get('code')).toBeTruthy();
  });

  it('issues a JWT access token that the sample API and UserInfo both accept', async () => {
    const tokens = await codeFlow('alice');
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.access_token.split('.')).toHaveLength(3);

    const api = await fetch(`${stack.apiUrl}/orders?x=1`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(api.status).toBe(200);
    const echoed = await api.json() as { sub: string; path: string; claims: Record<string, unknown> };
    expect(echoed.sub).toBe('alice');
    expect(echoed.path).toBe('/orders');
    expect(echoed.claims).toMatchObject({ iss: stack.issuer, aud: stack.apiUrl, client_id: 'demo-bff' });

    const userinfo = await fetch(metadata.userinfo_endpoint as string, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({ sub: 'alice', name: 'Alice', email: 'alice@example.com' });
  });

  it('keeps UserInfo strict: a tampered token is rejected', async () => {
    const tokens = await codeFlow('bob');
    const [h, p, s = ''] = tokens.access_token.split('.');
    const forged = `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const res = await fetch(metadata.userinfo_endpoint as string, { headers: { authorization: `Bearer ${forged}` } });
    expect(res.status).toBe(401);
  });

  it('rotates refresh tokens: the old one then fails with invalid_grant; the witness saw one refresh', async () => {
    const tokens = await codeFlow('carol');
    stack.identity.clearEvents();
    const first = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).toBeTruthy();
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    const refreshGrants = stack.identity.events.filter((e) => e.type === 'grant.success' && e.grantType === 'refresh_token');
    expect(refreshGrants).toHaveLength(1);
    const overHttp = await (await fetch(`${stack.issuer}/__test/events`)).json() as Array<{ type: string }>;
    expect(overHttp.filter((e) => e.type === 'refresh_token.consumed')).toHaveLength(1);

    const replay = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
  });
});

describe('sample API', () => {
  it('answers 401 invalid_token without a token, and still logs the request', async () => {
    stack.api.clearLog();
    const res = await fetch(`${stack.apiUrl}/secret?a=1`, { headers: { 'x-canary': 'yes' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await res.json()).toEqual({ error: 'invalid_token' });
    const log = await (await fetch(`${stack.apiUrl}/__log`)).json() as Array<{ path: string; query: unknown; headers: Record<string, unknown> }>;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ path: '/secret', query: { a: '1' }, headers: { 'x-canary': 'yes' } });
  });

  it('streams SSE events one by one', async () => {
    const tokens = await codeFlow('dave');
    const res = await fetch(`${stack.apiUrl}/sse?count=3&interval=300`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const arrivals: Array<{ at: number; text: string }> = [];
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push({ at: Date.now(), text: decoder.decode(value) });
    }
    const events = arrivals.map((a) => a.text).join('').split('\n\n').filter(Boolean);
    expect(events).toEqual(['data: {"n":0}', 'data: {"n":1}', 'data: {"n":2}']);
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals.at(-1)!.at - arrivals[0]!.at).toBeGreaterThanOrEqual(500);
  });
});
