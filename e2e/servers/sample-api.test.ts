// The sample API's endpoints and the identity server's logout, revocation and expiry behaviour.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CookieJar, loginAtIdentityServer, logoutAtIdentityServer } from './drive-login';
import { startLocalStack, type LocalStack } from './start-local-stack';

const REDIRECT_URI = 'http://localhost:3000/';
const BASIC = `Basic ${Buffer.from('demo-bff:demo-bff-secret').toString('base64')}`;
interface TokenResponse { access_token: string; refresh_token: string; id_token: string; error?: string }
interface Metadata { authorization_endpoint: string; token_endpoint: string; userinfo_endpoint: string; revocation_endpoint: string; end_session_endpoint: string }

let stack: LocalStack;
let md: Metadata;

async function post(url: string, params: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { authorization: BASIC }, body: new URLSearchParams(params) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as TokenResponse };
}

async function login(username: string, jar = new CookieJar(), metadata = md) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: 'demo-bff', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid profile offline_access',
    state: 's', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  }).toString();
  const final = new URL(await loginAtIdentityServer(url.href, username, jar));
  const { body } = await post(metadata.token_endpoint, {
    grant_type: 'authorization_code', code: final.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI, code_verifier: verifier,
  });
  return { ...body, jar };
}

beforeAll(async () => {
  stack = await startLocalStack({ idpPort: 0, apiPort: 0 });
  md = await (await fetch(`${stack.issuer}/.well-known/openid-configuration`)).json() as Metadata;
});
afterAll(async () => { await stack?.close(); });

describe('sample API endpoints', () => {
  let auth: { authorization: string };
  beforeAll(async () => { auth = { authorization: `Bearer ${(await login('erin')).access_token}` }; });

  it('hashes a streamed 20 MB upload without echoing it, and echoes a small body', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const body = Readable.toWeb(Readable.from((function* () { for (let i = 0; i < 20; i += 1) yield chunk; })()));
    const res = await fetch(`${stack.apiUrl}/v1/echo`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: body as ReadableStream, duplex: 'half',
    } as RequestInit);
    const expected = createHash('sha256');
    for (let i = 0; i < 20; i += 1) expected.update(chunk);
    expect(await res.json()).toEqual({ method: 'POST', contentType: 'application/octet-stream', length: 20 * chunk.length, sha256: expected.digest('hex') });
    const small = await fetch(`${stack.apiUrl}/echo`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hi' });
    expect(await small.json()).toMatchObject({ method: 'PUT', length: 2, body: 'hi' });
  });

  it('answers /whoami with the caller\'s subject and never echoes the Authorization header', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/whoami`, { headers: auth });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ sub: 'erin', method: 'GET' });
    expect(text).not.toContain(auth.authorization.slice('Bearer '.length));
  });

  it('answers /status/:code, /set-cookie, /redirect and /slow', async () => {
    const teapot = await fetch(`${stack.apiUrl}/status/418`, { headers: auth });
    expect([teapot.status, await teapot.json()]).toEqual([418, { status: 418 }]);
    expect((await fetch(`${stack.apiUrl}/set-cookie`, { headers: auth })).headers.get('set-cookie')).toBe('upstream=1; Path=/');
    const redirect = await fetch(`${stack.apiUrl}/redirect`, { headers: auth, redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, 'http://127.0.0.1:9/elsewhere']);
    const started = Date.now();
    expect((await fetch(`${stack.apiUrl}/slow?ms=300`, { headers: auth })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops the connection mid-body on /reset', async () => {
    const res = await fetch(`${stack.apiUrl}/reset`, { headers: auth });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('refuses two Authorization headers', async () => {
    const twice = new Headers([['authorization', auth.authorization], ['authorization', auth.authorization]]);
    expect((await fetch(`${stack.apiUrl}/x`, { headers: twice })).status).toBe(401);
  });

  it('echoes WebSocket messages for a valid token and refuses the upgrade without one', async () => {
    const wsUrl = `${stack.apiUrl.replace('http', 'ws')}/ws`;
    const refused = await new Promise<number>((resolve) => {
      new WebSocket(wsUrl).on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).on('error', () => resolve(-1));
    });
    expect(refused).toBe(401);
    const echoed = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: auth });
      ws.on('open', () => ws.send('ping')).on('message', (m) => { resolve(m.toString()); ws.close(); }).on('error', reject);
    });
    expect(echoed).toBe('ping');
  });
});

describe('identity server lifecycle', () => {
  it('expires access tokens at the API and at UserInfo', async () => {
    const short = await startLocalStack({ idpPort: 0, apiPort: 0, accessTokenTtl: 2 });
    try {
      const metadata = await (await fetch(`${short.issuer}/.well-known/openid-configuration`)).json() as Metadata;
      const { access_token: token } = await login('frank', new CookieJar(), metadata);
      const bearer = { authorization: `Bearer ${token}` };
      expect((await fetch(metadata.userinfo_endpoint, { headers: bearer })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 3200)); // TTL 2 s + the identity server's clock tolerance 1 s
      expect((await fetch(metadata.userinfo_endpoint, { headers: bearer })).status).toBe(401);
      expect((await fetch(`${short.apiUrl}/x`, { headers: bearer })).status).toBe(401);
    } finally {
      await short.close();
    }
  });

  it('revokes a refresh token (RFC 7009) and records it', async () => {
    const tokens = await login('gina');
    stack.identity.clearEvents();
    expect((await post(md.revocation_endpoint, { token: tokens.refresh_token, token_type_hint: 'refresh_token' })).status).toBe(200);
    expect(stack.identity.events.map((e) => e.type)).toContain('revocation.success');
    const refused = await post(md.token_endpoint, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refused.body.error).toBe('invalid_grant');
  });

  it('ends the session on RP-initiated logout and redirects to the post-logout URI', async () => {
    const tokens = await login('hank');
    const url = new URL(md.end_session_endpoint);
    url.search = new URLSearchParams({ id_token_hint: tokens.id_token, client_id: 'demo-bff', post_logout_redirect_uri: REDIRECT_URI, state: 'bye' }).toString();
    stack.identity.clearEvents();
    expect(await logoutAtIdentityServer(url.href, tokens.jar)).toBe(`${REDIRECT_URI}?state=bye`);
    expect(stack.identity.events.map((e) => e.type)).toContain('end_session.success');
  });
});
