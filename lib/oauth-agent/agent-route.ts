// Turns a table of handlers and a guard policy into the exports of a route.ts: every HTTP method is
// exported (so a wrong one gets the contract's 405 JSON, not Next's empty 405), every guard runs
// inside the route itself (nothing relies on proxy.ts, Next.js CVE-2025-29927), and every error
// leaves through toErrorResponse() with Cache-Control: no-store.
import type { Config } from '../config';
import { configForRequest } from '../apps/select-app';
import { CookieJar } from '../cookies/cookie-jar';
import { SessionCookies, type Session } from '../cookies/session-cookies';
import { badRequest, ThError, toErrorResponse, unauthorized } from '../errors';
import { log } from '../log';
import { assertCsrf, assertTrustedOrigin } from '../security/request-guards';

export interface AgentContext {
  request: Request;
  config: Config;
  jar: CookieJar;
  cookies: SessionCookies;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
  /** Present when the policy requires a session. */
  session?: Session;
}

export type AgentHandler = (ctx: AgentContext) => Promise<Response>;

export interface GuardPolicy {
  /** Require the session-bound x-{p}-csrf header (contract §2). */
  csrf?: boolean;
  /** Require a readable session; otherwise 401 unauthorized_request. */
  session?: boolean;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
type Method = typeof METHODS[number];
type RouteExports = Record<Method, (request: Request) => Promise<Response>>;

const MAX_BODY_CHARS = 16 * 1024;

/** Only JSON bodies: a text/plain or form POST is what a cross-site page can send without preflight. */
async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.length === 0) return undefined;
  if (text.length > MAX_BODY_CHARS) throw badRequest('The request body is too large');
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw badRequest('The request body must be JSON');
  try { return JSON.parse(text) as unknown; } catch { throw badRequest('The request body is not valid JSON'); }
}

/**
 * Session guard: absent or unreadable (tampered, expired, mixed, unknown key) cookies both mean 401;
 * unreadable ones are also cleared, so the browser does not keep sending them.
 */
export function requireSession(jar: CookieJar, cookies: SessionCookies): Session {
  const read = cookies.read(jar);
  if (read.status === 'ok') return read.value;
  if (read.status === 'absent') throw unauthorized('No session');
  throw new ThError('unauthorized_request', 'The session cookies are invalid', { headers: setCookieHeaders(cookies.clear(jar)) });
}

export const setCookieHeaders = (lines: string[]): Array<[string, string]> => lines.map((l) => ['set-cookie', l]);

async function runGuarded(request: Request, handler: AgentHandler, policy: GuardPolicy): Promise<Response> {
  const path = new URL(request.url).pathname;
  try {
    // Contract §8: the app is chosen by Host and path (without APPS: the one configuration).
    const config = configForRequest(request);
    try {
      assertTrustedOrigin(request.headers, request.method, config.publicOrigin);
    } catch (err) {
      log('warn', 'origin_rejected', { path, method: request.method, site: request.headers.get('sec-fetch-site') ?? undefined });
      throw err;
    }
    const body = await readJsonBody(request);
    const jar = new CookieJar(request.headers.get('cookie'));
    const cookies = new SessionCookies(config);
    const session = policy.session || policy.csrf ? requireSession(jar, cookies) : undefined;
    if (policy.csrf) {
      try {
        assertCsrf(request.headers, config.cookiePrefix, session!.csrf);
      } catch (err) {
        log('warn', 'csrf_rejected', { path });
        throw err;
      }
    }
    const response = await handler({ request, config, jar, cookies, body, session });
    response.headers.set('cache-control', 'no-store');
    return response;
  } catch (err) {
    return toErrorResponse(err, { path, method: request.method });
  }
}

/** The exports of an agent route.ts: the handlers under their policy, 405 JSON for every other method. */
export function agentRoute(handlers: Partial<Record<Method, AgentHandler>>, policy: GuardPolicy = {}): RouteExports {
  const allowed = METHODS.filter((m) => handlers[m]).join(', ');
  const out = {} as RouteExports;
  for (const method of METHODS) {
    const handler = handlers[method];
    out[method] = handler
      ? (request) => runGuarded(request, handler, policy)
      : async (request) => toErrorResponse(new ThError('method_not_allowed', 'This method is not allowed on this endpoint', {
        headers: [['allow', allowed]],
      }), { path: new URL(request.url).pathname, method: request.method });
  }
  return out;
}

/** Every method of an unknown /oauth-agent/* path: 404 JSON. */
export function agentNotFound(): RouteExports {
  const notFound = async () => toErrorResponse(new ThError('not_found', 'No such OAuth Agent endpoint'));
  return Object.fromEntries(METHODS.map((m) => [m, notFound])) as unknown as RouteExports;
}
