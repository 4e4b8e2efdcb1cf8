// What the revocation check costs a proxied request (docs/contract.md §7: "no measurable CPU"): µs per
// planForward() (the whole per-request policy: origin, path, route, 2 cookie opens, CSRF, headers)
// with an empty denylist and with 100,000 entries, beside the check alone. Prints numbers only.
// Run: npx tsx bench/denylist-bench.ts
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../lib/config';
import { CookieJar } from '../lib/cookies/cookie-jar';
import { SessionCookies } from '../lib/cookies/session-cookies';
import { planForward } from '../lib/oauth-proxy/plan-forward';
import { getSessionDenylist } from '../lib/revocation/default-denylist';

const config = loadConfig({
  PUBLIC_ORIGIN: 'http://localhost:3000', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: randomBytes(32).toString('hex'), API_ROUTES: '/api=http://api:8080',
});
const now = Math.floor(Date.now() / 1000);
// Without the opened-cookie cache, so every call decrypts like a first request (the expensive case is
// the honest denominator; with the cache the policy is cheaper and the check's share larger).
const cookies = new SessionCookies(config);
const session = cookies.create({ accessToken: `at-${'x'.repeat(900)}`, accessTokenExpiresAt: now + 300, refreshToken: 'rt' }, now,
  { idpSid: 'op-sid', sub: 'alice', iss: config.oidc.issuer });
const cookie = cookies.write(new CookieJar(''), session, now).map((l) => l.split(';')[0]).join('; ');
const request = { method: 'GET', target: '/api/orders/1', headers: new Headers({ 'sec-fetch-site': 'same-origin', cookie }) };

function usPerOp(fn: () => unknown, ms = 1500): number {
  const run = (budget: number) => {
    let n = 0;
    const start = performance.now();
    let t = start;
    while (t - start < budget) { for (let i = 0; i < 200; i++) fn(); n += 200; t = performance.now(); }
    return ((t - start) * 1000) / n;
  };
  run(ms / 5);
  return run(ms);
}

const denylist = getSessionDenylist();
const check = () => denylist.isRevoked(session);
const rows: Array<[string, number]> = [];
rows.push(['planForward, denylist empty', usPerOp(() => planForward(request, config, cookies, now))]);
rows.push(['planForward, cached cookies, denylist empty', usPerOp(() => planForward(request, config, undefined, now))]);
rows.push(['isRevoked alone, denylist empty', usPerOp(check)]);
for (let i = 0; i < 100_000; i++) {
  const kind = i % 3;
  const r = kind === 0 ? { kind: 'session' as const, sid: `s${i}` }
    : kind === 1 ? { kind: 'idp-session' as const, iss: config.oidc.issuer, idpSid: `op${i}` }
      : { kind: 'subject' as const, iss: config.oidc.issuer, sub: `u${i}`, before: now };
  await denylist.revoke(r, now + 3600);
}
rows.push(['planForward, 100,000 entries (none matching)', usPerOp(() => planForward(request, config, cookies, now))]);
rows.push(['planForward, cached cookies, 100,000 entries', usPerOp(() => planForward(request, config, undefined, now))]);
rows.push(['isRevoked alone, 100,000 entries', usPerOp(check)]);
for (const [name, us] of rows) console.log(`${name.padEnd(48)} ${us.toFixed(3)} µs/op`);
