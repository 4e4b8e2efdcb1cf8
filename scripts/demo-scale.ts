// `npm run demo:scale [-- --instances N]`: the shared session store at work (README "Several
// instances"). Starts a local redis-server (persistence off), the local identity server and sample
// API, N BFF instances (Node server entry, default 2) sharing it, and a round-robin balancer on :3000
// that sends each request to the next instance. Short-lived access tokens (DEMO_ACCESS_TOKEN_TTL,
// default 20 s) make the single-flight refresh visible in the logs: one `token_refreshed` per rotation.
import { execSync } from 'node:child_process';
import { freePort } from '../e2e/harness/free-port';
import { startRedis } from '../e2e/harness/redis-server';
import { startRoundRobin } from '../e2e/harness/round-robin';
import { randomCookieKey, startBff, type RunningBff } from '../e2e/harness/start-bff';
import { startLocalStack } from '../e2e/servers/start-local-stack';

const args = process.argv.slice(2);
const countArg = args.indexOf('--instances');
const instances = countArg >= 0 ? Number(args[countArg + 1]) : 2;
if (!Number.isInteger(instances) || instances < 1 || instances > 8) {
  process.stderr.write('--instances must be a whole number from 1 to 8\n');
  process.exit(2);
}
const env = process.env;
const port = Number(env.PORT ?? 3000);
const origin = `http://localhost:${port}`;

if (env.DEMO_SKIP_BUILD !== '1') execSync('node scripts/ensure-build.mjs', { stdio: 'inherit' });

const redis = await startRedis();
const stack = await startLocalStack({
  idpPort: Number(env.IDP_PORT ?? 4000), apiPort: Number(env.API_PORT ?? 4001), bffOrigins: [origin],
  accessTokenTtl: Number(env.DEMO_ACCESS_TOKEN_TTL ?? 20),
});
const cookieKeys = randomCookieKey(); // dev-only, shared by the instances as in production
const ports = await Promise.all(Array.from({ length: instances }, () => freePort()));
const bffs: RunningBff[] = [];
const front = await startRoundRobin(() => ports, port, '0.0.0.0');

async function stop(code = 0): Promise<never> {
  await Promise.allSettled(bffs.map((b) => b.stop('SIGTERM')));
  await front.close();
  await stack.close();
  await redis.stop();
  process.exit(code);
}

try {
  for (const [i, p] of ports.entries()) {
    bffs.push(await startBff({
      transport: 'node', port: p, issuer: stack.issuer, apiRoutes: `/api=${stack.apiUrl}`, cookieKeys, keepLogs: false,
      env: { PUBLIC_ORIGIN: origin, SESSION_STORE_URL: redis.url, LOG_LEVEL: 'info' },
      onLog: (line) => process.stdout.write(`[bff-${i + 1}] ${line}\n`),
    }));
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  await stop(1);
}

process.stdout.write(`
  next-token-handler: ${instances} instances sharing one session store

    App (round-robin): ${origin}/
    Instances:         ${ports.map((p) => `127.0.0.1:${p}`).join(', ')}
    Session store:     ${redis.url} (redis-server, persistence off)
    Identity server:   ${stack.issuer} (access tokens live ${env.DEMO_ACCESS_TOKEN_TTL ?? 20} s)

    Sign in with any username and the password "Password1", then call the API after the token
    expired: the requests go to every instance in turn, and the logs show one token_refreshed.
    Try: redis-cli -p ${redis.port} shutdown nosave  (the instances log store_unavailable and go on)

  Press Ctrl-C to stop.
`);
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
