// ID token validation (OIDC Core §3.1.3.7), both transports: the BFF's issuer is a fault injector
// in front of the real identity server that swaps the token endpoint's id_token for a forgery. The
// control case (a correct re-signed token) logs in; every forgery ends in 400 invalid_request with
// no session cookie.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import type { Transport } from '../harness/start-bff';
import { CookieJar as IdpCookieJar, loginAtIdentityServer } from '../servers/drive-login';
import { DEMO_CLIENT_SECRET } from '../servers/identity-config';
import { startIdTokenForger, type ForgeryMode, type IdTokenForger } from '../servers/id-token-forger';
import { itAuditsEveryResponse, sessionCookiesSet, startSecurityStack, TRANSPORTS, type SecurityStack } from './security-stack';

let s: SecurityStack;
let forger: IdTokenForger;
beforeAll(async () => {
  s = await startSecurityStack({
    issuer: async (local) => {
      forger = await startIdTokenForger({ upstreamIssuer: local.issuer, clientSecret: DEMO_CLIENT_SECRET });
      return forger.issuer;
    },
  });
});
afterAll(async () => {
  await s?.close();
  await forger?.close();
});

const FORGERIES: Array<[ForgeryMode, string]> = [
  ['wrong-aud', '[OIDC Core §3.1.3.7 step 3] aud is another client'],
  ['wrong-iss', '[OIDC Core §3.1.3.7 step 2] iss is another issuer'],
  ['wrong-nonce', '[OIDC Core §3.1.3.7 step 11] nonce is not the transaction\'s'],
  ['expired', '[OIDC Core §3.1.3.7 step 9] exp is an hour ago'],
  ['alg-none', '[RFC 8725 §3.1][CVE-2015-9235] alg: none'],
  ['bad-signature', '[OIDC Core §3.1.3.7 step 6] one signature byte flipped'],
  ['unknown-key', '[OIDC Core §3.1.3.7 step 6] signed by a key not in the JWKS'],
  ['hs256-client-secret', '[RFC 8725 §2.1 (algorithm confusion)] HS256 keyed with the client secret'],
  ['missing', '[OIDC Core §3.1.3.3] no id_token in the token response'],
];

describe.each(TRANSPORTS)('ID token forgeries (%s transport)', (transport: Transport) => {
  const bff = () => s.bff(transport);
  const headers = (cookies = '') => ({ origin: bff().origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', ...(cookies ? { cookie: cookies } : {}) });
  beforeEach(async () => { await s.resetCanaries(); });

  async function loginWith(mode: ForgeryMode): Promise<Response> {
    forger.mode = mode;
    const start = await fetch(`${bff().origin}/oauth-agent/login/start`, { method: 'POST', headers: headers() });
    expect(start.status).toBe(200);
    const { authorizationRequestUrl } = await start.json() as { authorizationRequestUrl: string };
    expect(new URL(authorizationRequestUrl).origin, 'the BFF talks to the injector').toBe(forger.issuer);
    const cookies = applySetCookies('', start.headers.getSetCookie());
    const pageUrl = await loginAtIdentityServer(authorizationRequestUrl, 'alice', new IdpCookieJar());
    return fetch(`${bff().origin}/oauth-agent/login/end`, { method: 'POST', headers: headers(cookies), body: JSON.stringify({ pageUrl }) });
  }

  it('control: a correct token re-signed with the injector\'s published key logs in (so each refusal below is about the forgery)', async () => {
    const issuedBefore = forger.issued.length;
    const res = await loginWith('valid');
    expect(res.status, await res.clone().text()).toBe(200);
    expect(sessionCookiesSet(res.headers.getSetCookie()).length).toBeGreaterThanOrEqual(4);
    expect(forger.issued.length).toBe(issuedBefore + 1);
    s.audit.harvest(bff(), res.headers.getSetCookie());
  });

  it.each(FORGERIES)('%s → 400 invalid_request, no session cookie: %s', async (mode) => {
    const issuedBefore = forger.issued.length;
    const res = await loginWith(mode);
    const text = await res.text();
    expect(res.status, text).toBe(400);
    expect(JSON.parse(text).code).toBe('invalid_request');
    expect(sessionCookiesSet(res.headers.getSetCookie())).toEqual([]);
    // The forgery really was handed to the BFF (the code was redeemed through the injector).
    const grants = (await s.idpEvents()).filter((e) => e.type === 'grant.success' && e.grantType === 'authorization_code');
    expect(grants).toHaveLength(1);
    if (mode !== 'missing') {
      expect(forger.issued.length).toBe(issuedBefore + 1);
      const forged = forger.issued.at(-1)!;
      expect(text).not.toContain(forged.split('.')[1]);
      for (const line of bff().logs) expect(line).not.toContain(forged.split('.')[1]!);
    }
  });
});

itAuditsEveryResponse(() => s, 2);
