// Path rules of the OAuth Proxy (docs/contract.md §3): which upstream a request-target goes to, and which
// request-targets are refused before any upstream is contacted.
import type { ApiRoute } from '../config';
import { badRequest, ThError } from '../errors';

/**
 * Contract §3 / RFC 9110 §9.3: the methods an API is called with. TRACE/TRACK would echo the Bearer
 * token back to page script (cross-site tracing), CONNECT would open a tunnel, and WebDAV verbs
 * reach handlers the route was never meant to expose: all are refused, never forwarded.
 */
export const FORWARDED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function assertForwardedMethod(method: string): void {
  if (!FORWARDED_METHODS.has(method)) {
    throw new ThError('method_not_allowed', 'This method is not forwarded to APIs', { headers: [['allow', [...FORWARDED_METHODS].join(', ')]] });
  }
}

/** Deeper nesting than this is no legitimate client's doing; it only serves to confuse a decoder. */
const MAX_DECODE_ROUNDS = 4;
const ENCODED_SLASH = /%(?:2f|5c)/i;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export interface RouteMatch {
  readonly route: ApiRoute;
  /** The path after the prefix, exactly as received (not decoded): `''` or starting with `/`. */
  readonly remainder: string;
}

/**
 * A request-target split into its raw path and raw query (`''` or starting with `?`). RFC 9112 §3.2:
 * a request-target never holds a fragment; a raw `#` is cut off by some parsers after routing and
 * kept by others, so it is refused (docs/contract.md §3).
 */
export function splitRequestTarget(target: string): { path: string; query: string } {
  if (target.includes('#')) throw badRequest('The request target holds a fragment');
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q) };
}

/**
 * RFC 3986 §6.2.2 / OWASP path traversal: an upstream may decode and normalise the path once more,
 * so the proxy decodes until the value is stable and refuses anything that could then name a
 * different resource than the prefix it was routed by. Returns the fully decoded path.
 */
export function assertSafeApiPath(rawPath: string): string {
  let current = rawPath;
  for (let round = 0; ; round++) {
    // An encoded slash or backslash is a separator to some upstreams and not to others.
    if (ENCODED_SLASH.test(current)) throw badRequest('The path holds an encoded slash');
    let decoded: string;
    try { decoded = decodeURIComponent(current); } catch (cause) {
      throw badRequest('The path is not validly percent-encoded', cause);
    }
    if (decoded === current) break;
    if (round >= MAX_DECODE_ROUNDS) throw badRequest('The path is encoded too many times');
    current = decoded;
  }
  if (!current.startsWith('/')) throw badRequest('The path must start with /');
  if (current.includes('\\')) throw badRequest('The path holds a backslash');
  if (CONTROL_CHARACTER.test(current)) throw badRequest('The path holds a control character');
  if (current.includes('//')) throw badRequest('The path holds an empty segment');
  // Contract §3: servlet containers (Tomcat, Jetty, Spring) drop a `;parameter` before routing and
  // resolving dot segments, so `/orders;x` is `/orders` and `..;x` is `..` to them (Orange Tsai,
  // "Breaking Parser Logic", Black Hat 2018): a `;` anywhere is refused, encoded or not.
  if (current.includes(';')) throw badRequest('The path holds a semicolon');
  for (const segment of current.split('/')) {
    if (segment === '.' || segment === '..') throw badRequest('The path holds a dot segment');
  }
  return current;
}

// A path that may change under RFC 3986 §5.2.4 / WHATWG URL normalisation: a `.`/`..` segment,
// encoded (`%2e`) or not, or a backslash (a separator in WHATWG URLs).
const NORMALISABLE = /(?:^|[/\\])(?:\.|%2e)|\\/i;

/**
 * Contract §3: a request-target that only reaches `/api` after dot-segment normalisation
 * (`/x/../api/y`, `/./api/y`, `/%2e/api/y`) is the API request `/api/y`, on every transport (Next
 * normalises it before proxy.ts sees it). Returns that target (path, query and any fragment, which
 * the policy then refuses), or undefined when the target is no such API request. `isApiPath` says
 * whether a target is an API path as received.
 */
export function normaliseApiTarget(target: string, isApiPath: (target: string) => boolean): string | undefined {
  const q = target.search(/[?#]/);
  if (!NORMALISABLE.test(q < 0 ? target : target.slice(0, q))) return undefined;
  const url = URL.parse(target, 'http://normalise.invalid');
  if (!url || url.host !== 'normalise.invalid') return undefined;
  const normalised = url.pathname + url.search + (target.includes('#') ? url.hash || '#' : '');
  return isApiPath(normalised) ? normalised : undefined;
}

/** Longest prefix first (config sorts them), on a segment boundary: `/api/orders` never matches `/api/ordersX`. */
export function findApiRoute(path: string, routes: readonly ApiRoute[]): ApiRoute | undefined {
  for (const route of routes) {
    if (path === route.prefix || (path.startsWith(route.prefix) && path.charCodeAt(route.prefix.length) === 47 /* / */)) {
      return route;
    }
  }
  return undefined;
}

/**
 * The route for a raw path that passed `assertSafeApiPath`. Prefixes hold only unreserved characters,
 * so the raw path is matched; when the decoded path would pick another route (`/api/%6frders`), the
 * request is ambiguous and refused rather than guessed.
 */
export function matchApiRoute(rawPath: string, decodedPath: string, routes: readonly ApiRoute[]): RouteMatch {
  const route = findApiRoute(rawPath, routes);
  if (findApiRoute(decodedPath, routes) !== route) throw badRequest('The path encodes part of a route prefix');
  if (!route) throw new ThError('not_found', 'No API route matches this path');
  return { route, remainder: rawPath.slice(route.prefix.length) };
}
