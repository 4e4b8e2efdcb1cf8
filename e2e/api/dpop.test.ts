// docs/contract.md §10: OIDC_DPOP=true end to end. The local identity server issues DPoP-bound
// JWT access tokens (cnf.jkt); the sample API accepts them only with the DPoP scheme and a proof for
// that very request. Witnesses: the sample API's canary log (what went upstream, proofs included),
// its answers to requests replayed from that log, and the identity server's grant log.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applySetCookies } from '../harness/browser-cookies';
import { browserHeaders, loginThroughBff } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import type { RunningBff, Transport } from '../harness/start-bff';
import { loadConfig } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies } from '../../lib/cookies/session-cookies';
import { callAgent, idpEvents, openSession, refreshGrants } from './agent-test-helpers';

interface UpstreamEntry { method: string; path: string; url: string; headers: Record<string, string | string[]> }

const TRANSPORTS: Transport[] = ['node', 'next'];
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const header = (e: UpstreamEntry, name: string) => e.headers[name] as string | undefined;

function helpers(stackRef: () => Stack) {
  const api = (bff: RunningBff, cookies: string, path = '/api/whoami', init: { method?: string; body?: string; csrf?: string } = {}) =>
    fetch(`${bff.origin}${path}`, { method: init.method, body: init.body, headers: browserHeaders(bff, cookies, init.csrf ? { 'x-th-csrf': init.csrf } : {}) });
  const upstreamLog = async () => (await fetch(`${stackRef().local.apiUrl}/__log`)).json() as Promise<UpstreamEntry[]>;
  const clearUpstreamLog = async () => { await fetch(`${stackRef().local.apiUrl}/__log`, { method: 'DELETE' }); };
  return { api, upstreamLog, clearUpstreamLog };
}

/** A browser session whose access-token cookie says the token has expired: the proxy must refresh first. */
function expireAccessToken(bff: RunningBff, cookies: string): string {
  const config = loadConfig({
    PUBLIC_ORIGIN: bff.origin, OIDC_ISSUER: 'http://127.0.0.1:1', OIDC_CLIENT_ID: 'demo-bff', OIDC_CLIENT_SECRET: 'x',
    COOKIE_KEYS: bff.cookieKeys, API_ROUTES: '/api=http://127.0.0.1:1',
  });
  const sc = new SessionCookies(config);
  const jar = new CookieJar(cookies);
  const read = sc.read(jar);
  if (read.status !== 'ok') throw new Error('no session');
  const now = Math.floor(Date.now() / 1000);
  return applySetCookies(cookies, sc.write(jar, { ...read.value, accessTokenExpiresAt: now - 1, accessTokenIssuedAt: now - 300 }));
}

describe('DPoP-bound tokens through the BFF (OIDC_DPOP=true)', () => {
  let stack: Stack;
  const { api, upstreamLog, clearUpstreamLog } = helpers(() => stack);
  beforeAll(async () => { stack = await startStack({ transports: TRANSPORTS, bffEnv: { OIDC_DPOP: 'true' } }); }, 120_000);
  afterAll(async () => { await stack?.close(); });
  beforeEach(async () => { await clearUpstreamLog(); });

  it.each(TRANSPORTS)('%s: each upstream call carries Authorization: DPoP and a fresh proof for that request', async (transport) => {
    const bff = stack.bff(transport);
    const login = await loginThroughBff(bff, 'alice');
    const session = openSession(bff, login.cookies)!;
    expect(session.dpopKey).toBeDefined();
    const cnf = claimsOf(session.accessToken).cnf as { jkt: string };
    expect(cnf.jkt).toBe(await calculateJwkThumbprint(JSON.parse(session.dpopKey!) as JWK, 'sha256'));

    expect((await api(bff, login.cookies, '/api/whoami?x=1')).status).toBe(200);
    expect((await api(bff, login.cookies, '/api/whoami?x=2')).status).toBe(200);
    const post = await api(bff, login.cookies, '/api/echo', { method: 'POST', body: '{"a":1}', csrf: login.csrf });
    expect(post.status).toBe(200);
    expect((await post.json() as { body: string }).body).toBe('{"a":1}');

    const log = await upstreamLog();
    expect(log).toHaveLength(3);
    const jtis = new Set<string>();
    for (const entry of log) {
      expect(header(entry, 'authorization')).toBe(`DPoP ${session.accessToken}`);
      const proof = header(entry, 'dpop')!;
      const p = claimsOf(proof);
      expect(p.htm).toBe(entry.method);
      expect(p.htu).toBe(`${stack.local.apiUrl}${entry.path}`);
      expect(p.ath).toBe(createHash('sha256').update(session.accessToken).digest('base64url'));
      expect(Math.abs(Number(p.iat) - Date.now() / 1000)).toBeLessThan(30);
      jtis.add(String(p.jti));
      expect(decodeProtectedHeader(proof).typ).toBe('dpop+jwt');
    }
    expect(jtis.size).toBe(3);
  });

  it('UserInfo is called with DPoP, and an agent refresh keeps the key with the new tokens', async () => {
    const bff = stack.bff('node');
    const login = await loginThroughBff(bff, 'dora');
    const before = openSession(bff, login.cookies)!;
    const info = await callAgent(bff, 'userInfo', { cookies: login.cookies });
    expect(info.status).toBe(200);
    expect((await info.json() as { sub: string }).sub).toBe('dora');

    const refreshed = await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(refreshed.status).toBe(204);
    const cookies = applySetCookies(login.cookies, refreshed.headers.getSetCookie());
    const after = openSession(bff, cookies)!;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.dpopKey).toBe(before.dpopKey);
    expect(claimsOf(after.accessToken).cnf).toEqual(claimsOf(before.accessToken).cnf);
    expect((await api(bff, cookies)).status).toBe(200);
    expect((await callAgent(bff, 'userInfo', { cookies })).status).toBe(200);
  });

  it.each(TRANSPORTS)('%s: the proxy\'s transparent refresh proves possession of the session\'s key and forwards the new token', async (transport) => {
    const bff = stack.bff(transport);
    const login = await loginThroughBff(bff, 'erin');
    const key = openSession(bff, login.cookies)!.dpopKey!;
    const since = Date.now();
    const cookies = expireAccessToken(bff, login.cookies);
    const r = await api(bff, cookies);
    expect(r.status).toBe(200);
    expect(refreshGrants(await idpEvents(stack.local.issuer)).filter((e) => e.at >= since)).toHaveLength(1);
    const after = openSession(bff, applySetCookies(cookies, r.headers.getSetCookie()))!;
    expect(after.dpopKey).toBe(key);
    const [entry] = await upstreamLog();
    expect(header(entry!, 'authorization')).toBe(`DPoP ${after.accessToken}`);
    expect(claimsOf(header(entry!, 'dpop')!).ath).toBe(createHash('sha256').update(after.accessToken).digest('base64url'));
  });

  it('node: a WebSocket handshake carries the DPoP credential and proof, and the upstream accepts it', async () => {
    const bff = stack.bff('node');
    const login = await loginThroughBff(bff, 'frank');
    const ws = new WebSocket(`ws://localhost:${bff.port}/api/ws`, { headers: { origin: bff.origin, cookie: login.cookies } });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('ping'));
      ws.once('message', (data) => resolve(String(data)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
    });
    ws.close();
    expect(echoed).toBe('ping');
    const [entry] = (await upstreamLog()).filter((e) => e.path === '/ws');
    expect(header(entry!, 'authorization')).toMatch(/^DPoP /);
    const p = claimsOf(header(entry!, 'dpop')!);
    expect(p.htm).toBe('GET');
    expect(p.htu).toBe(`${stack.local.apiUrl}/ws`);
  });

  describe('the upstream refuses a token copied out of its request log', () => {
    let token: string;
    let proof: string;
    beforeAll(async () => {
      const bff = stack.bff('node');
      const login = await loginThroughBff(bff, 'mallory-victim');
      await clearUpstreamLog();
      expect((await api(bff, login.cookies, '/api/whoami')).status).toBe(200);
      const [entry] = await upstreamLog();
      token = header(entry!, 'authorization')!.slice('DPoP '.length);
      proof = header(entry!, 'dpop')!;
    });
    const direct = (path: string, headers: Record<string, string>) => fetch(`${stack.local.apiUrl}${path}`, { headers });
    const refusal = async (r: Response) => ({ status: r.status, challenge: r.headers.get('www-authenticate'), body: await r.json() as { error: string; error_description: string } });

    it('as a bare Bearer token', async () => {
      const r = await refusal(await direct('/whoami', { authorization: `Bearer ${token}` }));
      expect(r.status).toBe(401);
      expect(r.challenge).toMatch(/^DPoP error="invalid_token"/);
    });

    it('with the proof it came with (replayed)', async () => {
      const r = await refusal(await direct('/whoami', { authorization: `DPoP ${token}`, dpop: proof }));
      expect(r).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof', error_description: 'jti replayed' } });
    });

    it('with that proof for another URL', async () => {
      const r = await refusal(await direct('/echo', { authorization: `DPoP ${token}`, dpop: proof }));
      expect(r).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof', error_description: 'htu mismatch' } });
    });

    it('with a fresh, well-formed proof signed by another key', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({
        htm: 'GET', htu: `${stack.local.apiUrl}/whoami`, jti: crypto.randomUUID(),
        ath: createHash('sha256').update(token).digest('base64url'),
      }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) }).setIssuedAt().sign(privateKey);
      const r = await refusal(await direct('/whoami', { authorization: `DPoP ${token}`, dpop: forged }));
      expect(r).toMatchObject({ status: 401, body: { error: 'invalid_token', error_description: 'the proof key is not the token\'s key' } });
    });
  });
});

describe('DPoP nonces demanded by the identity server and the upstream (RFC 9449 §8, §9)', () => {
  let stack: Stack;
  const { api, upstreamLog, clearUpstreamLog } = helpers(() => stack);
  beforeAll(async () => {
    stack = await startStack({ transports: TRANSPORTS, dpopNonce: true, apiDpopNonce: true, bffEnv: { OIDC_DPOP: 'true' } });
  }, 120_000);
  afterAll(async () => { await stack?.close(); });
  beforeEach(async () => { await clearUpstreamLog(); });

  it.each(TRANSPORTS)('%s: login, UserInfo and refresh pass the identity server\'s nonce; an upstream challenge is answered by one retry, then the nonce is reused', async (transport) => {
    const bff = stack.bff(transport);
    const since = Date.now();
    const login = await loginThroughBff(bff, 'nonce-user');
    expect((await callAgent(bff, 'userInfo', { cookies: login.cookies })).status).toBe(200);
    const refreshed = await callAgent(bff, 'refresh', { cookies: login.cookies, csrf: login.csrf });
    expect(refreshed.status).toBe(204);
    const cookies = applySetCookies(login.cookies, refreshed.headers.getSetCookie());
    // The identity server did demand a nonce of this BFF process (answered by openid-client's one retry).
    const challenged = (await idpEvents(stack.local.issuer)).filter((e) => e.at >= since && e.error === 'use_dpop_nonce');
    expect(challenged.length).toBeGreaterThanOrEqual(1);

    // A nonce this BFF process has not seen yet.
    await fetch(`${stack.local.apiUrl}/__dpop-nonce`, { method: 'POST' });
    expect((await api(bff, cookies, '/api/whoami')).status).toBe(200);
    const first = await upstreamLog();
    expect(first).toHaveLength(2);
    expect(claimsOf(header(first[1]!, 'dpop')!).nonce).toBeDefined();
    expect(claimsOf(header(first[1]!, 'dpop')!).jti).not.toBe(claimsOf(header(first[0]!, 'dpop')!).jti);

    await clearUpstreamLog();
    expect((await api(bff, cookies, '/api/whoami')).status).toBe(200);
    expect(await upstreamLog()).toHaveLength(1);
  });

  it('a POST: the next transport (buffered body) retries it; the node transport (streamed body) returns the challenge once, then the nonce is known', async () => {
    for (const transport of TRANSPORTS) {
      const bff = stack.bff(transport);
      const login = await loginThroughBff(bff, `post-${transport}`);
      await fetch(`${stack.local.apiUrl}/__dpop-nonce`, { method: 'POST' });
      const first = await api(bff, login.cookies, '/api/echo', { method: 'POST', body: 'hello', csrf: login.csrf });
      if (transport === 'next') {
        expect(first.status).toBe(200);
        expect((await first.json() as { body: string }).body).toBe('hello');
      } else {
        expect(first.status).toBe(401);
        expect(first.headers.get('www-authenticate')).toMatch(/use_dpop_nonce/);
        await first.arrayBuffer();
        expect((await api(bff, login.cookies, '/api/echo', { method: 'POST', body: 'hello', csrf: login.csrf })).status).toBe(200);
      }
    }
  });
});
