// `npm run demo`: the whole product on the bundled local stack, with no configuration and no internet.
// Starts the local identity server and sample API, then the BFF (Node server entry) with a development
// configuration generated on the fly. Any variable of docs/contract.md §4 in the environment wins.
// `npm run demo -- --apps` (or `npm run demo:apps`): two SPAs on the one deployment, /shop and /admin,
// each with its own client at the local identity server (contract §8, README "Several SPAs").
import { execSync } from 'node:child_process';
import { APP_CLIENTS } from '../e2e/servers/identity-config';
import { startLocalStack } from '../e2e/servers/start-local-stack';
import { randomCookieKey, startBff, type RunningBff } from '../e2e/harness/start-bff';

const CONTRACT_VARS = [
  'PUBLIC_ORIGIN', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_TOKEN_AUTH_METHOD', 'OIDC_CLIENT_PRIVATE_KEY',
  'OIDC_SCOPE', 'OIDC_REDIRECT_PATH', 'OIDC_POST_LOGOUT_REDIRECT_PATH', 'COOKIE_PREFIX', 'COOKIE_KEYS', 'API_ROUTES', 'PORT',
  'UPSTREAM_TIMEOUT_MS', 'MAX_BODY_BYTES', 'REFRESH_MARGIN_SECONDS', 'REFRESH_GRACE_SECONDS', 'SESSION_MAX_AGE_SECONDS',
  'LOG_LEVEL', 'TRUST_PROXY',
];

const env = process.env;
const severalApps = process.argv.includes('--apps');
const port = Number(env.PORT ?? 3000);
const idpPort = Number(env.IDP_PORT ?? 4000);
const apiPort = Number(env.API_PORT ?? 4001);
const origin = env.PUBLIC_ORIGIN ?? `http://localhost:${port}`;

if (env.DEMO_SKIP_BUILD !== '1') execSync('node scripts/ensure-build.mjs', { stdio: 'inherit' });

const stack = await startLocalStack({ idpPort, apiPort, bffOrigins: [origin] });
// Dev-only: a fresh random key per start, so demo sessions end with the demo.
const cookieKeys = env.COOKIE_KEYS ?? randomCookieKey();
const overrides: Record<string, string> = { LOG_LEVEL: 'info', PUBLIC_ORIGIN: origin };
for (const name of CONTRACT_VARS) if (env[name] !== undefined) overrides[name] = env[name]!;
if (severalApps) {
  overrides.APPS = APP_CLIENTS.map((a) => a.id).join(',');
  for (const app of APP_CLIENTS) {
    const prefix = `APP_${app.id.toUpperCase()}_`;
    overrides[`${prefix}BASE_PATH`] = app.basePath;
    overrides[`${prefix}OIDC_CLIENT_ID`] = app.clientId;
    overrides[`${prefix}OIDC_CLIENT_SECRET`] = app.secret;
  }
}
for (const [name, value] of Object.entries(env)) if (name.startsWith('APP_') && value !== undefined) overrides[name] = value;

let bff: RunningBff;
try {
  bff = await startBff({
    transport: 'node',
    port,
    issuer: stack.issuer,
    apiRoutes: `/api=${stack.apiUrl}`,
    cookieKeys,
    env: overrides,
    keepLogs: false,
    onLog: (line) => process.stdout.write(`[bff] ${line}\n`),
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  await stack.close();
  process.exit(1);
}

process.stdout.write(`
  next-token-handler demo is running

${severalApps ? APP_CLIENTS.map((a) => `    App ${a.id.padEnd(14)}${origin}${a.basePath}/ (client ${a.clientId})
`).join('') : `    App:              ${origin}/
`}    Identity server:  ${stack.issuer}/.well-known/openid-configuration
    Sample API:       ${stack.apiUrl} (through the BFF at ${severalApps ? APP_CLIENTS.map((a) => `${origin}${a.basePath}/api/...`).join(' and ') : `${origin}/api/...`})

    Sign in with any username and the password "Password1".
    COOKIE_KEYS was ${env.COOKIE_KEYS ? 'taken from the environment' : 'generated for this run (dev-only, never reuse it)'}.

  Press Ctrl-C to stop.
`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await bff.stop('SIGTERM');
  await stack.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
bff.process.once('exit', () => void stop());
