// Which app of a multi-app deployment (contract §8) a request belongs to: from its Host and its path
// only, never from anything else the client sends (a header or query naming an app could pick another
// app's client and keys for a request whose cookies the browser scoped to this one).
import { getConfig, type Config } from '../config';
import { ThError } from '../errors';

/** What part of an app a path addresses, relative to the app's base path. */
export type AppArea = 'api' | 'agent' | 'static';

interface HostApps { readonly apps: readonly Config[] }

// Per process configuration (module-level, lib/ loads once per process): host → its apps, deepest base path first.
const tables = new WeakMap<Config, Map<string, HostApps>>();

function tableOf(config: Config): Map<string, HostApps> {
  let table = tables.get(config);
  if (table) return table;
  table = new Map();
  for (const app of config.apps ?? []) {
    const host = new URL(app.publicOrigin).host;
    const list = [...(table.get(host)?.apps ?? []), app].sort((a, b) => b.app!.basePath.length - a.app!.basePath.length);
    table.set(host, { apps: list });
  }
  tables.set(config, table);
  return table;
}

const under = (base: string, path: string) =>
  base === '/' || path === base || (path.startsWith(base) && path.charCodeAt(base.length) === 47 /* / */);

/**
 * The app for a request with this Host header and raw path (no query), or undefined when none answers it.
 * Without APPS: the one configuration, at no cost (the single-app path never builds a table).
 */
export function selectApp(config: Config, host: string | null | undefined, path: string): Config | undefined {
  if (!config.apps) return config;
  if (!host) return undefined;
  const candidates = tableOf(config).get(host.toLowerCase());
  if (!candidates) return undefined;
  for (const app of candidates.apps) if (under(app.app!.basePath, path)) return app;
  return undefined;
}

/** The path inside the app: `/shop/api/x` of the app at `/shop` is `/api/x`. */
export function pathInApp(app: Config, path: string): string {
  const base = app.app?.basePath ?? '/';
  return base === '/' ? path : path.slice(base.length) || '/';
}

export function areaOf(pathInsideApp: string): AppArea {
  const p = pathInsideApp;
  if (p === '/api' || p.startsWith('/api/')) return 'api';
  if (p === '/oauth-agent' || p.startsWith('/oauth-agent/')) return 'agent';
  return 'static';
}

/** The configuration a Web Request (agent route, proxy.ts) is served with; not_found when no app answers it. */
export function configForRequest(request: Request, config = getConfig()): Config {
  if (!config.apps) return config;
  const app = selectApp(config, request.headers.get('host'), new URL(request.url).pathname);
  if (!app) throw new ThError('not_found', 'No application is served at this address');
  return app;
}

/**
 * The file under public/ that answers a static path of an app: its index.html for paths without a file
 * extension (its client-side routes, e.g. /shop/orders/1), its own files from its directory. A
 * host-based app's pages reference their files under /<id>/ (public/<id>/), which are served as they are.
 */
export function staticPathFor(app: Config, pathInsideApp: string): string {
  const dir = app.app!.staticDir;
  const last = pathInsideApp.slice(pathInsideApp.lastIndexOf('/') + 1);
  if (!last.includes('.')) return `${dir}/index.html`;
  return pathInsideApp.startsWith(`${dir}/`) ? pathInsideApp : `${dir}${pathInsideApp}`;
}
