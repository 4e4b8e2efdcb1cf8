// One deployment serving three SPAs (contract §8): shop at /shop and admin at /admin on
// http://localhost:<port>, and the host-based app ops on http://127.0.0.1:<port>. Each has its own
// client at the local identity server (shop-bff, admin-bff; ops uses demo-bff) and its own upstream
// base path on the sample API, so the API's request log shows which app forwarded what.
import { applySetCookies } from '../harness/browser-cookies';
import { freePort } from '../harness/free-port';
import { randomCookieKey, startBff, type RunningBff, type Transport } from '../harness/start-bff';
import { loginAtIdentityServer } from '../servers/drive-login';
import { APP_CLIENTS } from '../servers/identity-config';
import { startLocalStack, type LocalStack } from '../servers/start-local-stack';

export interface AppUnderTest {
  id: 'shop' | 'admin' | 'ops';
  origin: string;
  /** `''` for a host-based app. */
  base: string;
  prefix: string;
}

export interface AppsStack {
  local: LocalStack;
  bffs: Map<Transport, RunningBff>;
  apps(transport: Transport): Record<AppUnderTest['id'], AppUnderTest>;
  close(): Promise<void>;
}

export function appsEnv(port: number, apiUrl: string): Record<string, string> {
  const [shop, admin] = APP_CLIENTS;
  return {
    APPS: 'shop,admin,ops',
    APP_SHOP_BASE_PATH: shop.basePath, APP_SHOP_OIDC_CLIENT_ID: shop.clientId, APP_SHOP_OIDC_CLIENT_SECRET: shop.secret,
    APP_SHOP_API_ROUTES: `/api=${apiUrl}/shop`,
    APP_ADMIN_BASE_PATH: admin.basePath, APP_ADMIN_OIDC_CLIENT_ID: admin.clientId, APP_ADMIN_OIDC_CLIENT_SECRET: admin.secret,
    APP_ADMIN_API_ROUTES: `/api=${apiUrl}/admin`,
    APP_OPS_PUBLIC_ORIGIN: `http://127.0.0.1:${port}`, APP_OPS_API_ROUTES: `/api=${apiUrl}/ops`,
  };
}

export async function startAppsStack(transports: Transport[], opts: { accessTokenTtl?: number } = {}): Promise<AppsStack> {
  const ports = await Promise.all(transports.map(() => freePort()));
  const local = await startLocalStack({
    idpPort: 0, apiPort: 0, accessTokenTtl: opts.accessTokenTtl,
    bffOrigins: ports.flatMap((p) => [`http://localhost:${p}`, `http://127.0.0.1:${p}`]),
  });
  const bffs = new Map<Transport, RunningBff>();
  const cookieKeys = randomCookieKey(); // the same keys for every app: isolation must not depend on them
  try {
    for (const [i, transport] of transports.entries()) {
      bffs.set(transport, await startBff({
        transport, port: ports[i]!, issuer: local.issuer, apiRoutes: `/api=${local.apiUrl}/default`, cookieKeys,
        env: appsEnv(ports[i]!, local.apiUrl),
      }));
    }
  } catch (err) {
    await Promise.all([...bffs.values()].map((b) => b.stop()));
    await local.close();
    throw err;
  }
  return {
    local, bffs,
    apps(transport) {
      const { port } = bffs.get(transport)!;
      return {
        shop: { id: 'shop', origin: `http://localhost:${port}`, base: '/shop', prefix: 'th-shop' },
        admin: { id: 'admin', origin: `http://localhost:${port}`, base: '/admin', prefix: 'th-admin' },
        ops: { id: 'ops', origin: `http://127.0.0.1:${port}`, base: '', prefix: 'th-ops' },
      };
    },
    async close() {
      await Promise.all([...bffs.values()].map((b) => b.stop()));
      await local.close();
    },
  };
}

/** Headers of a same-origin fetch() from the app's page. */
export const pageHeaders = (app: AppUnderTest, cookies = '', extra: Record<string, string> = {}) => ({
  origin: app.origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', ...(cookies ? { cookie: cookies } : {}), ...extra,
});

export const call = (app: AppUnderTest, path: string, init: { method?: string; cookies?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(`${app.origin}${app.base}${path}`, {
    method: init.method ?? 'GET',
    headers: pageHeaders(app, init.cookies, init.headers),
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

export interface AppSession { cookies: string; csrf: string; setCookies: string[] }

/** The SPA's login through the app's own agent, as a browser with its own identity-server session. */
export async function loginToApp(app: AppUnderTest, username: string): Promise<AppSession> {
  const start = await call(app, '/oauth-agent/login/start', { method: 'POST' });
  if (start.status !== 200) throw new Error(`${app.id} login/start answered ${start.status}: ${await start.text()}`);
  const setCookies = start.headers.getSetCookie();
  let cookies = applySetCookies('', setCookies);
  const pageUrl = await loginAtIdentityServer((await start.json()).authorizationRequestUrl, username);
  const end = await call(app, '/oauth-agent/login/end', { method: 'POST', cookies, body: { pageUrl } });
  const body = await end.json() as { csrf?: string };
  if (end.status !== 200 || !body.csrf) throw new Error(`${app.id} login/end answered ${end.status}: ${JSON.stringify(body)}`);
  setCookies.push(...end.headers.getSetCookie());
  cookies = applySetCookies(cookies, end.headers.getSetCookie());
  return { cookies, csrf: body.csrf, setCookies };
}

/** The session cookie name of `kind` for an app on loopback http (Secure, so __Host- at / and __Secure- under a path). */
export const cookieName = (app: AppUnderTest, kind: string) => `${app.base ? '__Secure-' : '__Host-'}${app.prefix}-${kind}`;

/** `from`'s cookies renamed to `to`'s names: what an attacker who copied them would send. */
export function renameCookies(cookies: string, from: AppUnderTest, to: AppUnderTest): string {
  return cookies.split('; ').map((pair) => {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    for (const kind of ['at', 'rt', 'id', 'csrf']) if (name === cookieName(from, kind)) return `${cookieName(to, kind)}=${pair.slice(eq + 1)}`;
    return pair;
  }).join('; ');
}

/** The value of one cookie in a Cookie header. */
export const cookieValue = (cookies: string, name: string) =>
  cookies.split('; ').find((p) => p.startsWith(`${name}=`))?.slice(name.length + 1);

/** `cookies` with the value of `name` replaced. */
export const withCookie = (cookies: string, name: string, value: string) =>
  cookies.split('; ').map((p) => (p.startsWith(`${name}=`) ? `${name}=${value}` : p)).join('; ');
