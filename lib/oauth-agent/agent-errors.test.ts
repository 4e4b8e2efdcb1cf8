// In-process tier: the error table of docs/contract.md §2, endpoint by endpoint — every code with its status,
// the {code, message} JSON shape, Cache-Control: no-store, and the cookies an error clears.
import { beforeEach, describe, expect, it } from 'vitest';
import { agentRoute } from './agent-route';
import { ScriptedIdentityServer } from '../testing/scripted-identity-server';
import { clearedCookies, PUBLIC_ORIGIN, startScriptedIdentityServer, TestBrowser, useAgentEnvironment, type AgentResponse } from '../testing/agent-test-kit';

useAgentEnvironment();

let idp: ScriptedIdentityServer;
let browser: TestBrowser;
beforeEach(async () => {
  idp = await startScriptedIdentityServer();
  browser = new TestBrowser();
});

/** The contract's error shape: exactly {code, message}, JSON, never cached. */
function expectError(res: AgentResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.json().code }).toEqual({ status, code });
  expect(Object.keys(res.json()).sort()).toEqual(['code', 'message']);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

const pageUrlFor = async (b: TestBrowser) => idp.authorize((await b.startLogin()).json<{ authorizationRequestUrl: string }>().authorizationRequestUrl);

describe('every endpoint: origin, method and unknown paths', () => {
  const endpoints: Array<['GET' | 'POST', string]> = [
    ['POST', '/login/start'], ['POST', '/login/end'], ['GET', '/session'], ['GET', '/userInfo'],
    ['GET', '/claims'], ['POST', '/refresh'], ['POST', '/logout'],
  ];

  it.each(endpoints)('%s %s: a cross-site request is 401 unauthorized_request', async (method, path) => {
    expectError(await browser.call(method, path, { headers: { 'sec-fetch-site': 'cross-site' } }), 401, 'unauthorized_request');
    expectError(await browser.call(method, path, { headers: { 'sec-fetch-site': 'same-site' } }), 401, 'unauthorized_request');
  });

  it.each(endpoints.filter(([m]) => m === 'POST'))('%s %s: a foreign Origin, or neither Sec-Fetch-Site nor Origin, is 401', async (method, path) => {
    expectError(await browser.call(method, path, { noFetchMetadata: true, headers: { origin: 'https://evil.example' } }), 401, 'unauthorized_request');
    expectError(await browser.call(method, path, { noFetchMetadata: true }), 401, 'unauthorized_request');
  });

  it.each(endpoints)('%s %s: any other method is 405 method_not_allowed with Allow', async (method, path) => {
    const wrong = method === 'GET' ? 'POST' : 'GET';
    const res = await browser.call(wrong, path);
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe(method);
    expectError(await browser.call('DELETE', path), 405, 'method_not_allowed');
  });

  it('an unknown /oauth-agent/* path is 404 not_found on every method', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const) expectError(await browser.call(method, '/nope'), 404, 'not_found');
  });

  it('a handler failing unexpectedly is 500 server_error whose message echoes nothing of the failure', async () => {
    const route = agentRoute({ GET: async () => { throw new Error('db password hunter2 at /srv/x.ts:12'); } });
    const res = await route.GET(new Request(`${PUBLIC_ORIGIN}/oauth-agent/x`, { headers: { 'sec-fetch-site': 'same-origin' } }));
    expect(res.status).toBe(500);
    const body = await res.json() as { code: string; message: string };
    expect(body.code).toBe('server_error');
    expect(body.message).not.toMatch(/hunter2|srv|x\.ts/);
  });
});

describe('request bodies', () => {
  it('malformed JSON, a non-JSON content type or a malformed field is 400 invalid_request', async () => {
    expectError(await browser.call('POST', '/login/start', { rawBody: '{"extraParams":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request');
    expectError(await browser.call('POST', '/login/start', { rawBody: '{}', headers: { 'content-type': 'text/plain' } }), 400, 'invalid_request');
    expectError(await browser.call('POST', '/login/start', { body: { extraParams: 'prompt=login' } }), 400, 'invalid_request');
    expectError(await browser.call('POST', '/login/end', { body: {} }), 400, 'invalid_request');
  });

  it('a disallowed extraParams key is 400 invalid_request and no request reaches the identity server', async () => {
    expectError(await browser.call('POST', '/login/start', { body: { extraParams: [{ key: 'redirect_uri', value: 'https://evil.example/' }] } }), 400, 'invalid_request');
    expect(idp.requests).toEqual([]);
  });

  it('a body over 16 KiB is 413 payload_too_large: from Content-Length, and from a stream without one', async () => {
    const big = JSON.stringify({ pageUrl: `${PUBLIC_ORIGIN}/?x=${'a'.repeat(17 * 1024)}` });
    expectError(await browser.call('POST', '/login/end', { rawBody: big, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    // 8 MiB: the answer must not wait for it (the rest is drained in the background, as Node drains an
    // unread body, so that the 413 reaches a real client before its connection closes).
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 2048) controller.close(); else controller.enqueue(new Uint8Array(4096).fill(0x61));
      },
    });
    const { POST } = await import('../../app/oauth-agent/login/end/route');
    const res = await POST(new Request(`${PUBLIC_ORIGIN}/oauth-agent/login/end`, {
      method: 'POST', body: stream, duplex: 'half', headers: { 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
    } as RequestInit));
    // Answered once the body passes 16 KiB, not after reading it to the end.
    const pulledWhenAnswered = pulled;
    expect(res.status).toBe(413);
    expect(pulledWhenAnswered).toBeLessThan(64); // 256 KiB of the 8 MiB at most (the stream reads ahead)
  });
});

describe('login/end', () => {
  it('an authorization response without its pending transaction is 400 invalid_request', async () => {
    const pageUrl = await pageUrlFor(new TestBrowser());
    expectError(await browser.call('POST', '/login/end', { body: { pageUrl } }), 400, 'invalid_request');
  });

  it('a state that does not match the transaction is 400 invalid_request', async () => {
    const pageUrl = new URL(await pageUrlFor(browser));
    pageUrl.searchParams.set('state', 'another-state-value-entirely');
    expectError(await browser.call('POST', '/login/end', { body: { pageUrl: pageUrl.href } }), 400, 'invalid_request');
  });

  it('a pageUrl off PUBLIC_ORIGIN is 400 invalid_request', async () => {
    const pageUrl = new URL(await pageUrlFor(browser));
    expectError(await browser.call('POST', '/login/end', { body: { pageUrl: `https://evil.example/${pageUrl.search}` } }), 400, 'invalid_request');
  });

  it.each([
    ['login_required', 401], ['interaction_required', 401], ['consent_required', 401], ['account_selection_required', 401],
    ['access_denied', 400], ['invalid_scope', 400],
  ])('front-channel error=%s is %i with that code; error_description is never echoed; the transaction is cleared', async (error, status) => {
    const started = await browser.startLogin();
    const pageUrl = idp.authorize(started.json<{ authorizationRequestUrl: string }>().authorizationRequestUrl, { error });
    const res = await browser.call('POST', '/login/end', { body: { pageUrl } });
    expectError(res, status, error);
    expect(res.body).not.toContain('scripted');
    expect(clearedCookies(res).some((n) => n.includes('-login-'))).toBe(true);
    expect(idp.tokenCalls).toEqual([]);
  });

  it('the identity server refusing the code redemption with a 4xx is 400 authorization_error', async () => {
    const pageUrl = await pageUrlFor(browser);
    idp.nextTokenError = { status: 401, error: 'invalid_client' };
    expectError(await browser.call('POST', '/login/end', { body: { pageUrl } }), 400, 'authorization_error');
  });

  it.each([['a 5xx', 503], ['a failed connection', 'network']] as const)('the token endpoint answering %s is 502 authorization_server_error', async (_name, outage) => {
    const pageUrl = await pageUrlFor(browser);
    idp.tokenEndpointOutage = outage;
    expectError(await browser.call('POST', '/login/end', { body: { pageUrl } }), 502, 'authorization_server_error');
  });
});

describe('login/start', () => {
  it.each([['a 5xx', 500], ['a failed connection', 'network']] as const)('discovery answering %s is 502 authorization_server_error, and recovers', async (_name, outage) => {
    idp.outage = outage;
    expectError(await browser.call('POST', '/login/start'), 502, 'authorization_server_error');
    idp.outage = false;
    expect((await browser.call('POST', '/login/start')).status).toBe(200);
  });

  it('metadata naming another issuer is 502 authorization_server_error', async () => {
    const metadata = idp.metadata.bind(idp);
    idp.metadata = () => ({ ...metadata(), issuer: 'https://idp.example/other' });
    expectError(await browser.call('POST', '/login/start'), 502, 'authorization_server_error');
  });
});

describe('session guards', () => {
  it('session-bound endpoints without a session are 401 unauthorized_request', async () => {
    for (const path of ['/userInfo', '/claims']) expectError(await browser.call('GET', path), 401, 'unauthorized_request');
    for (const path of ['/refresh', '/logout']) expectError(await browser.call('POST', path, { csrf: 'x' }), 401, 'unauthorized_request');
  });

  it('a tampered session cookie is 401 unauthorized_request and every session cookie is cleared', async () => {
    await browser.login(idp);
    const name = '__Host-th-at';
    const value = browser.cookies.get(name)!;
    browser.cookies.set(name, value.slice(0, -4) + (value.endsWith('AAAA') ? 'BBBB' : 'AAAA'));
    const res = await browser.call('GET', '/session');
    expectError(res, 401, 'unauthorized_request');
    expect(clearedCookies(res).sort()).toEqual(['__Host-th-at', '__Host-th-csrf', '__Host-th-id', '__Host-th-rt']);
  });

  it('refresh and logout without the CSRF header, or with a wrong one, are 401 unauthorized_request', async () => {
    await browser.login(idp);
    for (const path of ['/refresh', '/logout']) {
      expectError(await browser.call('POST', path), 401, 'unauthorized_request');
      expectError(await browser.call('POST', path, { csrf: `${browser.csrf!.slice(0, -1)}x` }), 401, 'unauthorized_request');
    }
    expect(idp.tokenCalls.filter((c) => c.grantType === 'refresh_token')).toEqual([]);
    expect(idp.revoked).toEqual([]);
  });
});

describe('claims', () => {
  it('a session without its ID token cookie has no claims: 401 unauthorized_request', async () => {
    await browser.login(idp);
    browser.cookies.delete('__Host-th-id');
    expectError(await browser.call('GET', '/claims'), 401, 'unauthorized_request');
  });
});

describe('userInfo', () => {
  it('an access token the identity server no longer accepts is 401 token_expired', async () => {
    await browser.login(idp);
    idp.expireAccessTokens();
    expectError(await browser.call('GET', '/userInfo'), 401, 'token_expired');
  });

  it('UserInfo for another subject than the ID token\'s is refused (OIDC Core §5.3.2): 400 invalid_request, none of it returned', async () => {
    await browser.login(idp, { sub: 'alice' });
    idp.userInfoSub = 'mallory';
    const res = await browser.call('GET', '/userInfo');
    expectError(res, 400, 'invalid_request');
    expect(res.body).not.toContain('mallory');
  });

  it('the identity server down is 502 authorization_server_error', async () => {
    await browser.login(idp);
    idp.outage = 'network';
    expectError(await browser.call('GET', '/userInfo'), 502, 'authorization_server_error');
  });
});
