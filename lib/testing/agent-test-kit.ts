// The in-process test tier's browser: calls the OAuth Agent's real route exports (app/oauth-agent/*)
// as functions with real Web Requests, keeps the cookies they set like a browser would, and drives a
// login through the scripted identity server. Test support only, never imported by app code.
import * as catchAll from '../../app/oauth-agent/[[...path]]/route';
import * as claims from '../../app/oauth-agent/claims/route';
import * as loginEnd from '../../app/oauth-agent/login/end/route';
import * as loginStart from '../../app/oauth-agent/login/start/route';
import * as logout from '../../app/oauth-agent/logout/route';
import * as refresh from '../../app/oauth-agent/refresh/route';
import * as session from '../../app/oauth-agent/session/route';
import * as userInfo from '../../app/oauth-agent/userInfo/route';
import { getConfig } from '../config';
import { CookieJar } from '../cookies/cookie-jar';
import { SessionCookies, type Session } from '../cookies/session-cookies';
import { setLogLevel } from '../log';
import { useBackChannelFetch } from '../oidc/oidc-configuration';
import { ScriptedIdentityServer, type AuthorizeOptions, type ScriptedClient } from './scripted-identity-server';

export const PUBLIC_ORIGIN = 'https://app.example';
export const ISSUER = 'https://idp.example';
export const CLIENT_ID = 'spa-bff';
export const CLIENT_SECRET = 'scripted-client-secret';

/** A complete, valid environment for loadConfig; files override single variables before the first request. */
export const TEST_ENV: Record<string, string> = {
  PUBLIC_ORIGIN, OIDC_ISSUER: ISSUER, OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: CLIENT_SECRET,
  COOKIE_KEYS: 'a'.repeat(64), API_ROUTES: '/api=https://api.example', LOG_LEVEL: 'error',
};

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
type RouteModule = Record<Method, (request: Request) => Promise<Response>>;

const ROUTES: Record<string, RouteModule> = {
  '/login/start': loginStart, '/login/end': loginEnd, '/session': session, '/userInfo': userInfo,
  '/claims': claims, '/refresh': refresh, '/logout': logout,
};

/**
 * Sets the environment the agent's getConfig() reads (once per test file: vitest isolates files),
 * and quiets the logs to errors.
 */
export function useAgentEnvironment(overrides: Record<string, string> = {}): void {
  Object.assign(process.env, TEST_ENV, overrides);
  setLogLevel('error');
}

/** A fresh scripted identity server for every test, with the configured client registered, as the back channel. */
export async function startScriptedIdentityServer(client: Partial<ScriptedClient> = {}, clientId = CLIENT_ID): Promise<ScriptedIdentityServer> {
  const idp = await ScriptedIdentityServer.start(getConfig().oidc.issuer);
  idp.clients.set(clientId, { secret: CLIENT_SECRET, redirectUris: [getConfig().oidc.redirectUri], ...client });
  useBackChannelFetch(idp.fetch);
  return idp;
}

export interface AgentResponse {
  status: number;
  headers: Headers;
  setCookies: string[];
  body: string;
  json: <T = Record<string, unknown>>() => T;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as-is instead of JSON (with `content-type` from headers). */
  rawBody?: string;
  /** The x-{p}-csrf header; `true` sends the one the last login returned. */
  csrf?: string | true;
  headers?: Record<string, string>;
  /** Leave out Sec-Fetch-Site and Origin (a request from no browser). */
  noFetchMetadata?: boolean;
}

/** One browser tab: its cookie store, and same-origin JSON calls like the SPA's. */
export class TestBrowser {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;

  async call(method: Method, path: string, options: CallOptions = {}): Promise<AgentResponse> {
    const route = ROUTES[path] ?? catchAll;
    const headers = new Headers(options.headers);
    if (!options.noFetchMetadata) {
      if (!headers.has('sec-fetch-site')) headers.set('sec-fetch-site', 'same-origin');
      if (method !== 'GET' && method !== 'HEAD' && !headers.has('origin')) headers.set('origin', PUBLIC_ORIGIN);
    }
    const csrf = options.csrf === true ? this.csrf : options.csrf;
    if (csrf !== undefined) headers.set(`x-${getConfig().cookiePrefix}-csrf`, csrf);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; '));
    let body: string | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const request = new Request(`${PUBLIC_ORIGIN}/oauth-agent${path}`, { method, headers, body });
    const response = await route[method](request);
    const setCookies = response.headers.getSetCookie();
    this.applySetCookies(setCookies);
    const text = await response.text();
    return { status: response.status, headers: response.headers, setCookies, body: text, json: <T>() => JSON.parse(text) as T };
  }

  /** RFC 6265 §5.3 in short: Max-Age=0 deletes, anything else stores (every cookie here is Path=/). */
  applySetCookies(lines: string[]): void {
    for (const line of lines) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      if (/;\s*Max-Age=0(;|$)/i.test(line)) this.cookies.delete(name); else this.cookies.set(name, pair!.slice(eq + 1));
    }
  }

  /** login/start → the user signs in at the identity server → login/end with the page URL it redirected to. */
  async login(idp: ScriptedIdentityServer, options: AuthorizeOptions & { extraParams?: Array<{ key: string; value: string }> } = {}): Promise<AgentResponse> {
    const started = await this.startLogin(options.extraParams);
    const pageUrl = idp.authorize(started.json<{ authorizationRequestUrl: string }>().authorizationRequestUrl, options);
    const ended = await this.call('POST', '/login/end', { body: { pageUrl } });
    if (ended.status === 200) this.csrf = ended.json<{ csrf?: string }>().csrf;
    return ended;
  }

  async startLogin(extraParams?: Array<{ key: string; value: string }>): Promise<AgentResponse> {
    const started = await this.call('POST', '/login/start', extraParams ? { body: { extraParams } } : {});
    if (started.status !== 200) throw new Error(`login/start answered ${started.status} ${started.body}`);
    return started;
  }
}

/** The session cookie names as the browser holds them (e.g. `__Host-th-at`). */
export const sessionCookieNames = (browser: TestBrowser) => [...browser.cookies.keys()].filter((n) => /-(at|rt|id|csrf)(-\d+)?$/.test(n));

/** Every Set-Cookie line of a response that removes a session cookie. */
export const clearedCookies = (res: AgentResponse) => res.setCookies.filter((l) => /Max-Age=0/.test(l)).map((l) => l.split('=')[0]!);

/** The session the browser's cookies hold, opened with the agent's own cookie crypto (to look at its tokens). */
export function openSession(browser: TestBrowser): Session {
  const jar = new CookieJar([...browser.cookies].map(([n, v]) => `${n}=${v}`).join('; '));
  const read = new SessionCookies(getConfig()).read(jar);
  if (read.status !== 'ok') throw new Error(`the browser holds no readable session (${read.status})`);
  return read.value;
}
