// `npx tsx bench/static-under-next.ts`: static-file throughput and server CPU per request under
// `next start` (single app, no APPS) — what proxy.ts's wider matcher (several SPAs, README "Several
// SPAs on one deployment") costs a page's assets. Prints numbers; asserts nothing.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../e2e/harness/free-port';
import { startBff } from '../e2e/harness/start-bff';

const port = await freePort();
const bff = await startBff({ transport: 'next', port, issuer: 'http://127.0.0.1:9', apiRoutes: '/api=http://127.0.0.1:9', keepLogs: false, env: { LOG_LEVEL: 'warn' } });
const cpu = () => { const f = readFileSync(`/proc/${bff.process.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10_000; }; // µs (100 Hz ticks)
try {
  for (const path of ['/assets/app.css', '/']) {
    const load = (seconds: number) => JSON.parse(execFileSync(process.execPath, ['bench/load-generator.mjs', JSON.stringify({ url: `http://127.0.0.1:${port}${path}`, connections: 10, durationSeconds: seconds })], { encoding: 'utf8' }));
    load(1); // warm-up
    const before = cpu();
    const r = load(4);
    const used = cpu() - before;
    process.stdout.write(`${path}: ${Math.round(r.requestsPerSecond)} req/s, ${Math.round(used / r.requests)} µs CPU/request, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}\n`);
  }
} finally {
  await bff.stop();
}
