// Every agent route checks origin, CSRF and session for itself (docs/security.md), and refuses
// tampered, truncated, swapped and foreign-key cookies; key rotation keeps users logged in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySetCookies } from '../harness/browser-cookies';
import { loginThroughBff, type LoginResult } from '../harness/login-through-bff';
import { startStack, type Stack } from '../harness/stack';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { callAgent, clearedNames, CSRF_HEADER, SESSION_COOKIES } from './agent-test-helpers';

let stack: Stack;
beforeAll(async () => { stack = await startStack({ transports: ['node', 'next'] }); });
afterAll(async () => { await stack?.close(); });

const ENDPOINTS = [
  { path: 'login/start', method: 'POST', csrf: false, session: false },
  { path: 'login/end', method: 'POST', csrf: false, session: false },
  { path: 'session', method: 'GET', csrf: false, session: false },
  { path: 'userInfo', method: 'GET', csrf: false, session: true },
  { path: 'claims', method: 'GET', csrf: false, session: true },
  { path: 'refresh', method: 'POST', csrf: true, session: true },
  { path: 'logout', method: 'POST', csrf: true, session: true },
] as const;

const bodyFor = (bff: RunningBff, path: string) => (path === 'login/end' ? { pageUrl: `${bff.origin}/` } : undefined);

/** Replaces one cookie's value in a Cookie header. */
const withCookie = (cookies: string, name: string, value: (v: string) => string) =>
  cookies.split('; ').map((c) => (c.startsWith(`${name}=`) ? `${name}=${value(c.slice(name.length + 1))}` : c)).join('; ');

describe.each<Transport>(['node', 'next'])('OAuth Agent guards (%s transport)', (transport) => {
  const bff = () => stack.bff(transport);
  let login: LoginResult;
  beforeAll(async () => { login = await loginThroughBff(stack.bff(transport), 'alice'); });

  describe.each(ENDPOINTS)('$method $path', ({ path, method, csrf, session }) => {
    const call = (headers: Record<string, string>) => fetch(`${bff().origin}/oauth-agent/${path}`, {
      method, headers: { 'content-type': 'application/json', cookie: login.cookies, [CSRF_HEADER]: login.csrf, ...headers },
      body: method === 'POST' && bodyFor(bff(), path) ? JSON.stringify(bodyFor(bff(), path)) : undefined,
    });

    it('refuses cross-site and same-site requests, and a foreign Origin', async () => {
      const variants: Array<Record<string, string>> = [
        { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
        { 'sec-fetch-site': 'same-site', origin: 'http://sub.localhost' },
        { 'sec-fetch-site': 'same-origin', origin: 'https://evil.example' },
        { origin: 'https://evil.example' },
        { origin: 'null' },
        // A forged Next internal header changes nothing (Next.js CVE-2025-29927).
        { 'sec-fetch-site': 'cross-site', 'x-middleware-subrequest': 'proxy:proxy:proxy:proxy:proxy' },
      ];
      for (const headers of variants) {
        const res = await call(headers);
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect((await res.json()).code).toBe('unauthorized_request');
      }
      if (method === 'POST') {
        const res = await call({}); // neither Sec-Fetch-Site nor Origin
        expect(res.status).toBe(401);
        expect((await res.json()).code).toBe('unauthorized_request');
      }
    });

    it(csrf ? 'requires the session-bound CSRF header' : 'does not require a CSRF header', async () => {
      const missing = await call({ 'sec-fetch-site': 'same-origin', origin: bff().origin, [CSRF_HEADER]: '' });
      const wrong = await call({ 'sec-fetch-site': 'same-origin', origin: bff().origin, [CSRF_HEADER]: login.csrf.slice(0, -1) + (login.csrf.endsWith('A') ? 'B' : 'A') });
      if (csrf) {
        for (const res of [missing, wrong]) {
          expect(res.status).toBe(401);
          expect((await res.json()).code).toBe('unauthorized_request');
        }
      } else {
        expect(missing.status).toBe(200);
        expect(wrong.status).toBe(200);
      }
    });

    it(session ? 'requires a session' : 'works without a session', async () => {
      const res = await fetch(`${bff().origin}/oauth-agent/${path}`, {
        method, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', origin: bff().origin, [CSRF_HEADER]: login.csrf },
        body: method === 'POST' && bodyFor(bff(), path) ? JSON.stringify(bodyFor(bff(), path)) : undefined,
      });
      if (session) {
        expect(res.status).toBe(401);
        expect((await res.json()).code).toBe('unauthorized_request');
      } else {
        expect(res.status).toBe(200);
      }
    });
  });

  describe('cookie tampering', () => {
    const tampered = (): Array<[string, string]> => [
      ['a flipped character in the access-token cookie', withCookie(login.cookies, '__Host-th-at', (v) => v.slice(0, 30) + (v[30] === 'A' ? 'B' : 'A') + v.slice(31))],
      ['a truncated refresh-token cookie', withCookie(login.cookies, '__Host-th-rt', (v) => v.slice(0, v.length - 10))],
      ['the ID-token cookie swapped into the access-token slot', withCookie(login.cookies, '__Host-th-at', () => /__Host-th-id=([^;]*)/.exec(login.cookies)![1]!)],
      ['the csrf cookie replaced by garbage', withCookie(login.cookies, '__Host-th-csrf', () => 'garbage')],
    ];

    it('refuses tampered, truncated and swapped cookies with 401 unauthorized_request and clears them', async () => {
      for (const [what, cookies] of tampered()) {
        for (const path of ['session', 'claims', 'refresh']) {
          const res = await callAgent(bff(), path, { cookies, csrf: login.csrf });
          expect(res.status, `${what} on ${path}`).toBe(401);
          expect((await res.json()).code).toBe('unauthorized_request');
          expect(clearedNames(res.headers.getSetCookie()).sort()).toEqual([...SESSION_COOKIES].sort());
        }
      }
    });

    it('never combines the cookies of two sessions', async () => {
      const bob = await loginThroughBff(bff(), 'bob');
      const mixed = withCookie(login.cookies, '__Host-th-at', () => /__Host-th-at=([^;]*)/.exec(bob.cookies)![1]!);
      const res = await callAgent(bff(), 'claims', { cookies: mixed });
      expect(res.status).toBe(401);
      expect((await res.json()).code).toBe('unauthorized_request');
    });
  });
});

describe('cookie key rotation', () => {
  it('a BFF with COOKIE_KEYS=new,old keeps sessions; one without the old key refuses them', async () => {
    const node = stack.bff('node');
    const login = await loginThroughBff(node, 'alice');
    const newKey = randomCookieKey();
    // The identity server only knows the stack's BFF origins, so the second BFF reuses one of them
    // while the first is briefly stopped.
    const port = node.port;
    await node.stop();
    let rotated: RunningBff | undefined;
    try {
      rotated = await startBff({ transport: 'node', port, issuer: stack.local.issuer, apiRoutes: `/api=${stack.local.apiUrl}`, cookieKeys: `${newKey},${node.cookieKeys}` });
      const claims = await callAgent(rotated, 'claims', { cookies: login.cookies });
      expect(claims.status).toBe(200);
      expect((await claims.json()).sub).toBe('alice');
      const refresh = await callAgent(rotated, 'refresh', { cookies: login.cookies, csrf: login.csrf });
      expect(refresh.status).toBe(204);
      const reencrypted = applySetCookies(login.cookies, refresh.headers.getSetCookie());
      await rotated.stop();
      rotated = await startBff({ transport: 'node', port, issuer: stack.local.issuer, apiRoutes: `/api=${stack.local.apiUrl}`, cookieKeys: newKey });
      expect((await callAgent(rotated, 'claims', { cookies: reencrypted })).status).toBe(200);
      const stale = await callAgent(rotated, 'claims', { cookies: login.cookies }); // sealed with the retired key
      expect(stale.status).toBe(401);
      expect((await stale.json()).code).toBe('unauthorized_request');
    } finally {
      await rotated?.stop();
      const restarted = await startBff({ transport: 'node', port, issuer: stack.local.issuer, apiRoutes: `/api=${stack.local.apiUrl}`, cookieKeys: node.cookieKeys });
      stack.bffs[stack.bffs.indexOf(node)] = restarted;
    }
  });
});
