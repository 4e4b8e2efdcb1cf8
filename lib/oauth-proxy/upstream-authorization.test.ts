// The proxy's credential for DPoP sessions (docs/contract.md §10): planForward with the session's dpop
// cookie, real cookie crypto and real signatures, checked with jose as an upstream would.
import { createHash, randomBytes } from 'node:crypto';
import { importJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { CookieJar } from '../cookies/cookie-jar';
import { SessionCookies } from '../cookies/session-cookies';
import { generateDpopKey } from '../oidc/dpop';
import { planForward } from './plan-forward';
import { planWithDpopNonce } from './upstream-authorization';

const config = loadConfig({
  PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: randomBytes(32).toString('hex'), API_ROUTES: '/api=http://dpop-api.test:8080/v1', OIDC_DPOP: 'true',
});
const cookies = new SessionCookies(config);
const now = Math.floor(Date.now() / 1000);
const dpopKey = generateDpopKey();
const session = cookies.create({ accessToken: 'bound-token', accessTokenExpiresAt: now + 300, refreshToken: 'rt', dpopKey }, now);
const cookie = cookies.write(new CookieJar(''), session, now).map((l) => l.split(';')[0]).join('; ');
const request = (method: string, target: string, extra: Record<string, string> = {}) => ({
  method, target, headers: new Headers({ 'sec-fetch-site': 'same-origin', cookie, 'x-th-csrf': session.csrf, ...extra }),
});
const publicJwk = (() => { const { kty, crv, x, y } = JSON.parse(dpopKey) as JWK; return { kty, crv, x, y }; })();
const verifyProof = async (proof: string) => (await jwtVerify(proof, await importJWK(publicJwk, 'ES256'), { typ: 'dpop+jwt' })).payload;

describe('upstream credential of a DPoP session', () => {
  it('sends Authorization: DPoP and a proof for this method and URL (no query), replacing a client-sent DPoP header', async () => {
    const plan = planForward(request('PUT', '/api/orders/1?q=2', { dpop: 'client-proof', authorization: 'Bearer x' }), config, cookies);
    expect(plan.headers.authorization).toBe('DPoP bound-token');
    expect(plan.headers.dpop).not.toBe('client-proof');
    const p = await verifyProof(plan.headers.dpop!);
    expect(p).toMatchObject({ htm: 'PUT', htu: 'http://dpop-api.test:8080/v1/orders/1', ath: createHash('sha256').update('bound-token').digest('base64url') });
    expect(p.nonce).toBeUndefined();
  });

  it('a Bearer session keeps one Bearer credential and no DPoP header, whatever the client sent', () => {
    const bearer = cookies.create({ accessToken: 'plain', accessTokenExpiresAt: now + 300 }, now);
    const c = cookies.write(new CookieJar(''), bearer, now).map((l) => l.split(';')[0]).join('; ');
    const plan = planForward({ method: 'GET', target: '/api/x', headers: new Headers({ 'sec-fetch-site': 'same-origin', cookie: c, dpop: 'client-proof' }) }, config, cookies);
    expect(plan.headers.authorization).toBe('Bearer plain');
    expect(plan.headers.dpop).toBeUndefined();
  });

  it('answers a use_dpop_nonce challenge with a new proof carrying the nonce, remembered for the next request', async () => {
    const plan = planForward(request('GET', '/api/items'), config, cookies);
    expect(planWithDpopNonce(plan, 401, 'Bearer error="invalid_token"', 'n-1')).toBeUndefined();
    const again = planWithDpopNonce(plan, 401, 'DPoP error="use_dpop_nonce"', 'n-2')!;
    const p = await verifyProof(again.headers.dpop!);
    expect(p.nonce).toBe('n-2');
    expect(p.jti).not.toBe((await verifyProof(plan.headers.dpop!)).jti);
    expect((await verifyProof(planForward(request('GET', '/api/other'), config, cookies).headers.dpop!)).nonce).toBe('n-2');
  });
});
