// Cookie attacks on both transports: every malformed, forged, swapped, duplicated or oversized
// session cookie is refused (401/4xx), and the canaries prove nothing reached the upstream API and
// the BFF never used a token at the identity server on the attacker's behalf.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies } from '../../lib/cookies/session-cookies';
import type { LoginResult } from '../harness/login-through-bff';
import { randomCookieKey, type RunningBff, type Transport } from '../harness/start-bff';
import { CSRF_HEADER, itAuditsEveryResponse, startSecurityStack, tokenUse, TRANSPORTS, type SecurityStack } from './security-stack';

let s: SecurityStack;
beforeAll(async () => { s = await startSecurityStack(); });
afterAll(async () => { await s?.close(); });

type Kind = 'at' | 'rt' | 'id' | 'csrf';
const KINDS: Kind[] = ['at', 'rt', 'id', 'csrf'];
const nameOf = (k: Kind | string) => `__Host-th-${k}`;

function cookieMap(header: string): Map<string, string> {
  return new Map(header.split('; ').map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)]));
}
const toHeader = (m: Map<string, string>) => [...m].map(([k, v]) => `${k}=${v}`).join('; ');
const replaced = (header: string, name: string, value: string) => { const m = cookieMap(header); m.set(name, value); return toHeader(m); };
/** Flips one base64url character in the middle of the value (ciphertext or tag, never the padding). */
const flipped = (v: string) => { const i = Math.floor(v.length / 2); return v.slice(0, i) + (v[i] === 'A' ? 'B' : 'A') + v.slice(i + 1); };

/** The same session's tokens sealed under a key the BFF does not hold. */
function sealedWithUnknownKey(bff: RunningBff, login: LoginResult): string {
  const env = { PUBLIC_ORIGIN: bff.origin, OIDC_ISSUER: 'http://127.0.0.1:1', OIDC_CLIENT_ID: 'demo-bff', OIDC_CLIENT_SECRET: 'x', API_ROUTES: '/api=http://127.0.0.1:1' };
  const real = new SessionCookies(loadConfig({ ...env, COOKIE_KEYS: bff.cookieKeys })).read(new CookieJar(login.cookies));
  if (real.status !== 'ok') throw new Error('the login cookies do not open');
  const foreign = new SessionCookies(loadConfig({ ...env, COOKIE_KEYS: randomCookieKey() }));
  return foreign.write(new CookieJar(''), real.value).map((l) => l.split(';')[0]).join('; ');
}

describe.each(TRANSPORTS)('cookie attacks (%s transport)', (transport: Transport) => {
  const bff = () => s.bff(transport);
  let alice: LoginResult;
  let bob: LoginResult;
  let loginCookie: string; // a pending login-transaction cookie: another kind sealed with the same keys
  beforeAll(async () => {
    alice = await s.login(transport, 'alice');
    bob = await s.login(transport, 'bob');
    const start = await fetch(`${bff().origin}/oauth-agent/login/start`, { method: 'POST', headers: { origin: bff().origin, 'sec-fetch-site': 'same-origin' } });
    const line = start.headers.getSetCookie().find((l) => l.startsWith('__Host-th-login-'))!;
    loginCookie = line.slice(line.indexOf('=') + 1, line.indexOf(';'));
  });
  beforeEach(async () => { await s.resetCanaries(); });

  /** Every endpoint that needs a session, called with `cookie`; each must refuse, and nothing may reach upstream or the IdP. */
  async function expectRefusedEverywhere(cookie: string, what: string, endpoints: Array<'api' | 'userInfo' | 'claims' | 'refresh' | 'logout'> = ['api', 'userInfo', 'claims', 'refresh', 'logout']) {
    for (const endpoint of endpoints) {
      const isApi = endpoint === 'api';
      const method = isApi || endpoint === 'userInfo' || endpoint === 'claims' ? 'GET' : 'POST';
      const url = isApi ? `${bff().origin}/api/echo` : `${bff().origin}/oauth-agent/${endpoint}`;
      const res = await fetch(url, {
        method,
        headers: { origin: bff().origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', cookie, [CSRF_HEADER]: alice.csrf },
      });
      expect(res.status, `${what} → ${endpoint}`).toBe(401);
      expect((await res.json()).code, `${what} → ${endpoint}`).toBe('unauthorized_request');
      expect(res.headers.get('cache-control'), `${what} → ${endpoint}`).toBe('no-store');
    }
    expect(await s.upstreamLog(), `${what}: upstream canary`).toEqual([]);
    expect(tokenUse(await s.idpEvents()), `${what}: identity server witness`).toEqual([]);
  }

  it('[RFC 6265bis §4.1][ASVS 5.0 V3.2] the valid session works (control: the refusals below are about the cookie)', async () => {
    const res = await fetch(`${bff().origin}/api/echo`, { headers: { origin: bff().origin, 'sec-fetch-site': 'same-origin', cookie: alice.cookies } });
    expect(res.status).toBe(200);
    expect((await res.json()).sub).toBe('alice');
    expect(await s.upstreamLog()).toHaveLength(1);
  });

  it('[ASVS 5.0 V3.2.1] missing, empty and garbage cookies → 401, nothing forwarded', async () => {
    await expectRefusedEverywhere('', 'no cookie');
    await expectRefusedEverywhere(KINDS.map((k) => `${nameOf(k)}=`).join('; '), 'empty values');
    await expectRefusedEverywhere(KINDS.map((k) => `${nameOf(k)}=garbage-${k}`).join('; '), 'garbage');
    await expectRefusedEverywhere(KINDS.map((k) => `${nameOf(k)}=${'A'.repeat(200)}`).join('; '), 'base64url noise');
    await expectRefusedEverywhere(`${nameOf('at')}=%00%0d%0a; ${nameOf('csrf')}="${'x'.repeat(60)}"`, 'control characters and quotes');
  });

  it.each(KINDS)('[RFC 5116 §2.2 (AEAD integrity)] truncated and bit-flipped %s cookie → 401, nothing forwarded', async (kind) => {
    const value = cookieMap(alice.cookies).get(nameOf(kind))!;
    await expectRefusedEverywhere(replaced(alice.cookies, nameOf(kind), value.slice(0, -10)), `${kind} truncated`, kind === 'at' || kind === 'csrf' ? undefined : ['userInfo', 'refresh']);
    await expectRefusedEverywhere(replaced(alice.cookies, nameOf(kind), flipped(value)), `${kind} bit-flipped`, kind === 'at' || kind === 'csrf' ? undefined : ['userInfo', 'refresh']);
  });

  it('[ASVS 5.0 V11.2][RFC 6265bis §8.3] the session sealed with a key the BFF does not hold → 401, nothing forwarded', async () => {
    await expectRefusedEverywhere(sealedWithUnknownKey(bff(), alice), 'unknown key');
  });

  // The proxy reads only the at and csrf slots; the agent's session routes read all four.
  const swaps = KINDS.flatMap((slot) => [...KINDS.filter((k) => k !== slot), 'login' as const].map((source) => [slot, source] as const));
  it.each(swaps)('[CVE-2023-48309] a valid cookie of another kind in the %s slot (%s) → 401, nothing forwarded', async (slot, source) => {
    const value = source === 'login' ? loginCookie : cookieMap(alice.cookies).get(nameOf(source))!;
    const endpoints = slot === 'at' || slot === 'csrf' ? undefined : (['userInfo', 'claims', 'refresh', 'logout'] as const).slice();
    await expectRefusedEverywhere(replaced(alice.cookies, nameOf(slot), value), `${source} in the ${slot} slot`, endpoints);
  });

  it.each(KINDS)('[RFC 6265bis §8.6] %s cookie from another user\'s session mixed into this one → 401, nothing forwarded', async (kind) => {
    const mixed = replaced(alice.cookies, nameOf(kind), cookieMap(bob.cookies).get(nameOf(kind))!);
    await expectRefusedEverywhere(mixed, `bob's ${kind} with alice's others`, kind === 'at' || kind === 'csrf' ? undefined : ['userInfo', 'refresh']);
  });

  it.each(KINDS)('[RFC 6265bis §8.6 (cookie tossing)] duplicated %s cookie names → 401, nothing forwarded', async (kind) => {
    const own = cookieMap(alice.cookies).get(nameOf(kind))!;
    const endpoints = kind === 'at' || kind === 'csrf' ? undefined : (['userInfo', 'refresh'] as const).slice();
    await expectRefusedEverywhere(`${alice.cookies}; ${nameOf(kind)}=${own}`, `${kind} twice, same value`, endpoints);
    await expectRefusedEverywhere(`${nameOf(kind)}=${cookieMap(bob.cookies).get(nameOf(kind))!}; ${alice.cookies}`, `${kind} twice, planted first`, endpoints);
  });

  it('[RFC 6265bis §4.1.3.2] case-variant prefixes (__HOST-, __host-, __Host-TH-) are other cookies → 401, nothing forwarded', async () => {
    for (const variant of ['__HOST-th-', '__host-th-', '__Host-TH-', '__Secure-th-', 'th-']) {
      const renamed = alice.cookies.split('; ').map((c) => c.replace(/^__Host-th-/, variant)).join('; ');
      await expectRefusedEverywhere(renamed, `prefix ${variant}`);
    }
  });

  it('[RFC 9110 §15.5.1][RFC 6585 §5] a Cookie header over 16 KB → 4xx (never a crash), and the server keeps serving', async () => {
    for (const size of [17 * 1024, 70 * 1024]) {
      let status: number;
      try {
        const res = await fetch(`${bff().origin}/api/echo`, { headers: { origin: bff().origin, 'sec-fetch-site': 'same-origin', cookie: `${alice.cookies}; junk=${'j'.repeat(size)}` } });
        status = res.status;
        await res.body?.cancel();
      } catch {
        status = 431; // the server may close the connection after its 431 before fetch reads it
      }
      // 17 KB fits the Node transport's 64 KiB header limit: the valid session in it then works.
      expect([200, 400, 401, 431], `cookie header of ${size} bytes`).toContain(status);
      if (size > 64 * 1024) expect([400, 431]).toContain(status);
      const garbage = await fetch(`${bff().origin}/oauth-agent/userInfo`, { headers: { origin: bff().origin, 'sec-fetch-site': 'same-origin', cookie: `${nameOf('at')}=${'g'.repeat(size)}` } }).then((r) => r.status, () => 431);
      expect([400, 401, 431], `garbage at cookie of ${size} bytes`).toContain(garbage);
    }
    const logsBefore = (await s.upstreamLog()).length;
    expect(logsBefore).toBeLessThanOrEqual(1); // only the 17 KB request with a valid session may have been forwarded
    expect((await fetch(`${bff().origin}/healthz`)).status).toBe(200);
    const after = await fetch(`${bff().origin}/api/echo`, { headers: { origin: bff().origin, 'sec-fetch-site': 'same-origin', cookie: alice.cookies } });
    expect(after.status).toBe(200);
  });
});

itAuditsEveryResponse(() => s, 4);
