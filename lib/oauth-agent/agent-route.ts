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
import { assertNotRevoked } from '../revocation/revoked-session';
import { observeAgentRequest } from '../observability/agent-observation';
import { assertCsrf, assertTrustedOrigin } from '../security/request-guards';
import { withStoredTokens } from '../session/server-side-tokens';

export interface AgentContext {
  request: Request;
  config: Config;
  jar: CookieJar;
  cookies: SessionCookies;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
}

/** What a handler behind a session policy gets: the session, its tokens loaded (also from the store). */
export interface SessionContext extends AgentContext {
  session: Session;
}

export type AgentHandler<C extends AgentContext = AgentContext> = (ctx: C) => Promise<Response>;

/**
 * Require a readable session (otherwise 401 unauthorized_request), and with `csrf` the session-bound
 * x-{p}-csrf header too (docs/contract.md §2). Its handlers get a SessionContext.
 */
export interface SessionPolicy {
  session: true;
  csrf?: boolean;
  /**
   * `best-effort`: a big session whose stored tokens cannot be loaded (store down, entry gone) still
   * reaches the handler, without them. For logout, which must end the session whatever the store does.
   */
  storedTokens?: 'best-effort';
}

/**
 * No session needed. `serverToServer`: called by the identity server, not by the SPA (back-channel
 * logout): no origin check, no cookies, and the handler reads its own (form) body.
 */
export interface OpenPolicy { session?: false; serverToServer?: boolean }

export type GuardPolicy = SessionPolicy | OpenPolicy;

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
type Method = typeof METHODS[number];
type RouteExports = Record<Method, (request: Request) => Promise<Response>>;

/** Agent bodies are small JSON documents; anything larger is refused before it costs memory. */
export const MAX_AGENT_BODY_BYTES = 16 * 1024;

const tooLarge = () => new ThError('payload_too_large', 'The request body is too large');

/**
 * Reads at most MAX_AGENT_BODY_BYTES (docs/contract.md §2, 413 payload_too_large): refused from Content-Length
 * before any byte is read, and a body without one is cut off as soon as it passes the limit, so a
 * 100 MB POST costs neither memory nor CPU (RFC 9110 §15.5.14).
 */
export async function readLimitedText(request: Request, tooLargeError: () => Error = tooLarge): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && !(Number(declared) <= MAX_AGENT_BODY_BYTES)) {
    if (request.body) void discardRest(request.body.getReader());
    throw tooLargeError();
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > MAX_AGENT_BODY_BYTES) { void discardRest(reader); throw tooLargeError(); }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The rest of a refused body is read and dropped, as Node does with a body nobody read: cancelling
 * would destroy the connection before the 413 is written, and closing it with unread bytes makes the
 * kernel reset it, which loses the answer at the client. Memory stays flat; the client stops sending
 * once it reads the 413.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    for (;;) if ((await reader.read()).done) return;
  } catch { /* the client went away */ }
}

/** Only JSON bodies: a text/plain or form POST is what a cross-site page can send without preflight. */
async function readJsonBody(request: Request): Promise<unknown> {
  const text = await readLimitedText(request);
  if (text.length === 0) return undefined;
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
  if (read.status === 'ok') {
    // Contract §7: an ended session (logout, back-channel logout) is refused with its cookies cleared.
    assertNotRevoked(read.value, () => cookies.clear(jar));
    return read.value;
  }
  if (read.status === 'absent') throw unauthorized('No session');
  throw new ThError('unauthorized_request', 'The session cookies are invalid', { headers: setCookieHeaders(cookies.clear(jar)) });
}

export const setCookieHeaders = (lines: string[]): Array<[string, string]> => lines.map((l) => ['set-cookie', l]);

async function runGuarded(request: Request, handler: AgentHandler<never>, policy: GuardPolicy): Promise<Response> {
  const path = new URL(request.url).pathname;
  try {
    // Contract §8: the app is chosen by Host and path (without APPS: the one configuration).
    const config = configForRequest(request);
    if (!policy.session && policy.serverToServer) {
      const response = await (handler as AgentHandler)({ request, config, jar: new CookieJar(null), cookies: new SessionCookies(config), body: undefined });
      response.headers.set('cache-control', 'no-store');
      return response;
    }
    try {
      assertTrustedOrigin(request.headers, request.method, config.publicOrigin);
    } catch (err) {
      log('warn', 'origin_rejected', { path, method: request.method, site: request.headers.get('sec-fetch-site') ?? undefined });
      throw err;
    }
    const body = await readJsonBody(request);
    const jar = new CookieJar(request.headers.get('cookie'));
    const cookies = new SessionCookies(config);
    const ctx: AgentContext = { request, config, jar, cookies, body };
    const response = policy.session
      ? await (handler as AgentHandler<SessionContext>)({ ...ctx, session: await openGuardedSession(ctx, policy) })
      : await (handler as AgentHandler)(ctx);
    response.headers.set('cache-control', 'no-store');
    return response;
  } catch (err) {
    return toErrorResponse(err, { path, method: request.method });
  }
}

/** The session guard, then the CSRF guard; the stored tokens of a big session are loaded only after both. */
async function openGuardedSession({ request, config, jar, cookies }: AgentContext, policy: SessionPolicy): Promise<Session> {
  const session = requireSession(jar, cookies);
  if (policy.csrf) {
    try {
      assertCsrf(request.headers, config.cookiePrefix, session.csrf);
    } catch (err) {
      log('warn', 'csrf_rejected', { path: new URL(request.url).pathname });
      throw err;
    }
  }
  // Docs/contract.md §7 "Big tokens": a stored session's tokens come from the store.
  const loaded = withStoredTokens(session, config, () => cookies.clear(jar));
  return policy.storedTokens === 'best-effort' ? loaded.catch(() => session) : loaded;
}

/** The exports of an agent route.ts: the handlers under their policy, 405 JSON for every other method. */
export function agentRoute(handlers: Partial<Record<Method, AgentHandler<SessionContext>>>, policy: SessionPolicy): RouteExports;
export function agentRoute(handlers: Partial<Record<Method, AgentHandler>>, policy?: OpenPolicy): RouteExports;
export function agentRoute(handlers: Partial<Record<Method, AgentHandler<never>>>, policy: GuardPolicy = {}): RouteExports {
  const allowed = METHODS.filter((m) => handlers[m]).join(', ');
  const out = {} as RouteExports;
  for (const method of METHODS) {
    const handler = handlers[method];
    // X-Request-Id, metrics and the server span around every answer, 405s included (docs/contract.md §9).
    out[method] = handler
      ? (request) => observeAgentRequest(request, () => runGuarded(request, handler, policy))
      : (request) => observeAgentRequest(request, async () => toErrorResponse(new ThError('method_not_allowed', 'This method is not allowed on this endpoint', {
        headers: [['allow', allowed]],
      }), { path: new URL(request.url).pathname, method: request.method }));
  }
  return out;
}

/** Every method of an unknown /oauth-agent/* path: 404 JSON. */
export function agentNotFound(): RouteExports {
  const notFound = (request: Request) => observeAgentRequest(request, async () => toErrorResponse(new ThError('not_found', 'No such OAuth Agent endpoint')));
  return Object.fromEntries(METHODS.map((m) => [m, notFound])) as unknown as RouteExports;
}
