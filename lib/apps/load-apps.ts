// Several SPAs on one deployment (contract §8): APPS=<id>,<id> and APP_<ID>_<VARIABLE> overrides. Each
// app is loaded by the same single-app loader of lib/config.ts with its own variables in front of the
// shared ones; then the apps are checked against each other (origins, base paths, cookie names).
import { appVariable, ConfigError, type Config, type Env } from '../config';

/** Variables an app may set for itself (contract §4), plus its base path. */
export const PER_APP_VARIABLES = [
  'PUBLIC_ORIGIN', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_TOKEN_AUTH_METHOD', 'OIDC_CLIENT_PRIVATE_KEY',
  'OIDC_SCOPE', 'OIDC_PAR', 'OIDC_DPOP', 'OIDC_REDIRECT_PATH', 'OIDC_POST_LOGOUT_REDIRECT_PATH', 'COOKIE_PREFIX', 'COOKIE_KEYS', 'API_ROUTES',
  'UPSTREAM_TIMEOUT_MS', 'MAX_BODY_BYTES', 'REFRESH_MARGIN_SECONDS', 'REFRESH_GRACE_SECONDS', 'SESSION_MAX_AGE_SECONDS',
  'BASE_PATH',
] as const;

/** Settings of the process (one listener, one log, one store): the same for every app. */
const PROCESS_WIDE_VARIABLES = ['PORT', 'LOG_LEVEL', 'TRUST_PROXY', 'SESSION_STORE_URL', 'SESSION_STORE_PREFIX', 'METRICS_PORT',
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_SERVICE_NAME', 'APPS'];

// Paths the deployment itself owns on every origin: a base path there would shadow them.
const RESERVED_FIRST_SEGMENTS = new Set(['api', 'oauth-agent', '_next', 'healthz', 'readyz']);
const APP_ID = /^[a-z][a-z0-9-]{0,31}$/;

type LoadOne = (env: Env, problems: string[], app: { id: string; basePath: string }) => Config | undefined;

export function loadApps(env: Env, loadOne: LoadOne): Config {
  const problems: string[] = [];
  const ids = parseAppIds(env.APPS ?? '', problems);
  checkAppVariables(env, ids, problems);

  const apps: Config[] = [];
  for (const id of ids) {
    const basePath = parseBasePath(id, env[appVariable(id, 'BASE_PATH')], problems);
    const app = loadOne(env, problems, { id, basePath: basePath ?? '/' });
    if (app && basePath !== undefined) apps.push(app);
  }
  // Over the apps that loaded, so one start reports every problem at once.
  checkAppsAgainstEachOther(apps, problems);
  if (problems.length > 0 || apps.length === 0) throw new ConfigError(problems);
  const frozen = Object.freeze(apps);
  return Object.freeze({ ...apps[0]!, apps: frozen });
}

function parseAppIds(raw: string, problems: string[]): string[] {
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.filter((id) => !APP_ID.test(id));
  if (bad.length > 0) problems.push(`APPS has ${bad.map((b) => JSON.stringify(b)).join(', ')}: each id must be 1-32 of a-z, 0-9 and -, starting with a letter (example: APPS=shop,admin)`);
  if (new Set(ids).size !== ids.length) problems.push('APPS lists an id twice (example: APPS=shop,admin)');
  if (ids.length === 0) problems.push('APPS lists no app (example: APPS=shop,admin)');
  return bad.length > 0 ? [] : [...new Set(ids)];
}

/** Every APP_* variable must name an app of APPS and a per-app variable: a typo must not silently fall back. */
function checkAppVariables(env: Env, ids: readonly string[], problems: string[]): void {
  const known = new Set<string>();
  const processWide = new Map<string, string>();
  for (const id of ids) {
    for (const name of PER_APP_VARIABLES) known.add(appVariable(id, name));
    for (const name of PROCESS_WIDE_VARIABLES) processWide.set(appVariable(id, name), name);
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('APP_') || value === undefined || value.trim() === '' || known.has(name)) continue;
    const shared = processWide.get(name);
    if (shared) problems.push(`${name} cannot be set per app: ${shared} applies to the whole process (set ${shared} instead)`);
    else problems.push(`${name} names no app of APPS (${ids.join(', ') || 'none'}) with a per-app variable (example: APP_SHOP_OIDC_CLIENT_ID=shop-bff)`);
  }
}

function parseBasePath(id: string, raw: string | undefined, problems: string[]): string | undefined {
  const value = raw?.trim() || '/';
  if (value === '/') return '/';
  const name = appVariable(id, 'BASE_PATH');
  const segments = value.split('/').slice(1);
  if (!value.startsWith('/') || value.endsWith('/') || segments.some((s) => !/^[A-Za-z0-9][A-Za-z0-9._~-]*$/.test(s))) {
    problems.push(`${name} must be / or a path such as /shop (segments of letters, digits, . _ ~ -; no trailing slash) (example: ${name}=/shop)`);
    return undefined;
  }
  if (RESERVED_FIRST_SEGMENTS.has(segments[0]!.toLowerCase())) {
    problems.push(`${name} must not start with /${segments[0]}: the deployment serves that path itself (example: ${name}=/shop)`);
    return undefined;
  }
  return value;
}

const originOf = (c: Config) => c.publicOrigin;
const within = (outer: string, inner: string) => outer === '/' || inner === outer || inner.startsWith(`${outer}/`);

function checkAppsAgainstEachOther(apps: readonly Config[], problems: string[]): void {
  for (let i = 0; i < apps.length; i++) {
    for (let j = i + 1; j < apps.length; j++) {
      const a = apps[i]!;
      const b = apps[j]!;
      const [idA, idB] = [a.app!.id, b.app!.id];
      const where = `${appVariable(idA, 'PUBLIC_ORIGIN')}/${appVariable(idA, 'BASE_PATH')} and ${appVariable(idB, 'PUBLIC_ORIGIN')}/${appVariable(idB, 'BASE_PATH')}`;
      if (originOf(a) === originOf(b)) {
        if (a.app!.basePath === b.app!.basePath) {
          problems.push(`${where} give apps ${idA} and ${idB} the same origin and base path (${a.publicOrigin}${a.app!.basePath}); give one its own APP_<ID>_BASE_PATH or APP_<ID>_PUBLIC_ORIGIN`);
        } else if (within(a.app!.basePath, b.app!.basePath) || within(b.app!.basePath, a.app!.basePath)) {
          problems.push(`${where} overlap: the base paths ${a.app!.basePath} and ${b.app!.basePath} of apps ${idA} and ${idB} on ${a.publicOrigin} nest (example: /shop and /admin)`);
        }
      }
      // RFC 6265 §8.5: cookies are scoped by host, not by port or scheme, so one host is one cookie namespace.
      if (new URL(a.publicOrigin).hostname === new URL(b.publicOrigin).hostname && a.cookiePrefix.toLowerCase() === b.cookiePrefix.toLowerCase()) {
        problems.push(`${appVariable(idA, 'COOKIE_PREFIX')} and ${appVariable(idB, 'COOKIE_PREFIX')} give apps ${idA} and ${idB} the same cookie prefix "${a.cookiePrefix}" on ${new URL(a.publicOrigin).hostname} (example: ${appVariable(idB, 'COOKIE_PREFIX')}=th-${idB})`);
      }
    }
  }
}
