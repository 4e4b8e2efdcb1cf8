// The CPU cost of DPoP next to ours-node: one built BFF (dist/server.mjs) in front of the
// bench upstream, loaded alternately with a Bearer session and a DPoP session (same BFF, same token
// size; the DPoP session's cookies add the sealed key, and every request gets a freshly signed
// ES256 proof). Prints the BFF's CPU per request for each, and the in-process cost of one proof.
// Run: `npm run build && npx tsx bench/dpop-cost.ts [seconds per round] [rounds]` (127.0.0.1 only).
import { randomBytes } from 'node:crypto';
import { freePort } from '../e2e/harness/free-port';
import { loadConfig } from '../lib/config';
import { CookieJar } from '../lib/cookies/cookie-jar';
import { SessionCookies } from '../lib/cookies/session-cookies';
import { createDpopProof, generateDpopKey } from '../lib/oidc/dpop';
import { compileBenchServer } from './lib/builds';
import { runLoad } from './lib/load';
import { startServer, treeCpuSeconds } from './lib/processes';
import { nodeEntrySpec, oursEnv, upstreamSpec } from './lib/variants';

const SECONDS = Number(process.argv[2] ?? 5);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONNECTIONS = 10;

function sealSession(env: Record<string, string>, dpop: boolean): string {
  const cookies = new SessionCookies(loadConfig(env));
  const session = cookies.create({
    // A JWT-sized opaque token: the BFF never parses it and the bench upstream does not verify it.
    accessToken: randomBytes(600).toString('base64url'),
    accessTokenExpiresAt: Math.floor(Date.now() / 1000) + 3600,
    refreshToken: randomBytes(32).toString('base64url'),
    ...(dpop ? { dpopKey: generateDpopKey() } : {}),
  });
  return cookies.write(new CookieJar(''), session).map((line) => line.split(';')[0]).join('; ');
}

function proofMicroseconds(): number {
  const key = generateDpopKey();
  const url = new URL('http://127.0.0.1:1/items');
  const n = 20_000;
  for (let i = 0; i < 2_000; i++) createDpopProof(key, { method: 'GET', url, accessToken: 'x'.repeat(800) });
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) createDpopProof(key, { method: 'GET', url, accessToken: 'x'.repeat(800) });
  const used = process.cpuUsage(started);
  return (used.user + used.system) / n;
}

async function main() {
  await compileBenchServer('bench/upstream.ts');
  const [upstreamPort, bffPort] = [await freePort(), await freePort()];
  const upstream = await startServer(upstreamSpec(upstreamPort));
  const env = oursEnv(bffPort, 'http://127.0.0.1:9', `http://127.0.0.1:${upstreamPort}`, randomBytes(32).toString('hex'));
  const bff = await startServer(nodeEntrySpec('ours-node', bffPort, env));
  const sessions = { 'ours-node (Bearer)': sealSession(env, false), 'ours-node + DPoP': sealSession(env, true) };
  const results: Record<string, number[]> = {};
  const rps: Record<string, number[]> = {};
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      for (const [name, cookie] of Object.entries(sessions)) {
        const spec = {
          url: `http://127.0.0.1:${bffPort}/api/items`, method: 'GET' as const, connections: CONNECTIONS, durationSeconds: round === 0 ? 1 : SECONDS,
          headers: { accept: 'application/json', host: `localhost:${bffPort}`, 'sec-fetch-site': 'same-origin', cookie },
        };
        const before = treeCpuSeconds(bff.pid);
        const load = await runLoad(spec);
        const cpu = treeCpuSeconds(bff.pid) - before;
        if (load.non2xx > 0 || load.errors > 0) throw new Error(`${name}: ${load.non2xx} non-2xx, ${load.errors} errors`);
        if (round === 0) continue; // warm-up
        (results[name] ??= []).push((cpu / load.requests) * 1e6);
        (rps[name] ??= []).push(load.requestsPerSecond);
      }
    }
  } finally {
    await bff.stop();
    await upstream.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`GET, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s (median):`);
  for (const name of Object.keys(sessions)) {
    console.log(`  ${name.padEnd(20)} ${median(results[name]!).toFixed(1).padStart(7)} µs CPU/req   ${median(rps[name]!).toFixed(0).padStart(6)} req/s`);
  }
  const ratio = median(results['ours-node + DPoP']!) / median(results['ours-node (Bearer)']!);
  console.log(`  DPoP ÷ Bearer CPU/req: ${ratio.toFixed(2)}`);
  console.log(`  one proof in-process (createDpopProof): ${proofMicroseconds().toFixed(1)} µs CPU`);
}

main().catch((err) => { console.error(err); process.exit(1); });
