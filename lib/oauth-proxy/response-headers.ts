// Which upstream response headers reach the browser (docs/contract.md §3 "Never returned"): an upstream's
// status and body pass untouched; its cookies, hop-by-hop headers and its address never do.
import type { ApiRoute } from '../config';

export type HeaderValue = string | string[];

const DROPPED = new Set([
  // The browser's cookie jar for this origin belongs to the token handler (session fixation, and an
  // upstream cookie would ride along on every later request to every other upstream).
  'set-cookie', 'set-cookie2',
  // RFC 9110 §7.6.1: hop-by-hop. The transport frames the response for its own connection.
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate',
]);
// Next.js internals (`x-middleware-rewrite: <upstream URL>` when an upstream is itself a Next app).
const DROPPED_PREFIXES = ['x-middleware-', 'x-nextjs-'];

export interface ResponseHeaderContext {
  route: ApiRoute;
  /** The upstream URL this request went to (resolves relative Location values). */
  upstreamUrl: URL;
  publicOrigin: string;
}

/**
 * The headers to send to the browser. `Location`/`Content-Location` pointing into the route's upstream
 * base are rewritten to the public path (the redirect still works, the address is not revealed); one
 * pointing elsewhere on the upstream's origin is dropped; any other header that names the upstream's
 * address is dropped. `Cache-Control: no-store` is added when the upstream sets no caching policy,
 * since the response was produced with the user's token (docs/security.md).
 */
export function filterUpstreamResponseHeaders(
  entries: Iterable<readonly [string, HeaderValue | undefined]>, ctx: ResponseHeaderContext,
): Record<string, HeaderValue> {
  const upstreamHost = ctx.upstreamUrl.host;
  const url = `//${upstreamHost}`;
  const bareHost = upstreamHost.includes(':');
  let connection: HeaderValue | undefined;
  const out: Record<string, HeaderValue> = {};
  for (const [rawName, value] of entries) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (name === 'connection') connection = value;
    if (DROPPED.has(name) || hasDroppedPrefix(name)) continue;
    if (name === 'location' || name === 'content-location') {
      const mapped = toPublicLocation(String(value), ctx);
      if (mapped !== undefined) out[name] = mapped;
      continue;
    }
    if (revealsHost(value, url, bareHost ? upstreamHost : undefined)) continue;
    out[name] = value;
  }
  // RFC 9110 §7.6.1: the headers the upstream's Connection names are hop-by-hop too, wherever they came.
  if (connection !== undefined) for (const n of String(connection).split(',')) delete out[n.trim().toLowerCase()];
  if (!('cache-control' in out)) out['cache-control'] = 'no-store';
  return out;
}

function hasDroppedPrefix(name: string): boolean {
  for (const prefix of DROPPED_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/** Rewrites a location on the upstream back to the public origin; undefined = drop it. */
export function toPublicLocation(location: string, ctx: ResponseHeaderContext): string | undefined {
  let url: URL;
  try { url = new URL(location, ctx.upstreamUrl); } catch { return undefined; }
  if (url.origin !== ctx.upstreamUrl.origin) return location; // another site: passed as the upstream meant it
  const base = new URL(ctx.route.upstream);
  const basePath = base.pathname === '/' ? '' : base.pathname;
  if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return undefined;
  const rest = url.pathname.slice(basePath.length);
  return `${ctx.publicOrigin}${ctx.route.prefix}${rest}${url.search}${url.hash}`;
}

/** `url` is `//host[:port]`; `hostWithPort` is given when the host has a port (specific enough alone). */
function revealsHost(value: HeaderValue, url: string, hostWithPort: string | undefined): boolean {
  if (typeof value === 'string') return value.includes(url) || (hostWithPort !== undefined && value.includes(hostWithPort));
  return value.some((v) => revealsHost(v, url, hostWithPort));
}

/**
 * What every /api/* response carries, whoever produced it (the upstream or the proxy's own error), on
 * both transports: the Node transport answers before Next, so next.config.js headers() never apply.
 * After a transparent refresh, the new session cookies ride on the same response, which then must
 * not be stored by any cache (nextjs-auth0 CVE-2025-48947).
 */
export function addProxyResponseHeaders(headers: Record<string, HeaderValue>, setCookies: readonly string[] = []): Record<string, HeaderValue> {
  // A JSON or text body is never sniffed into HTML or script.
  headers['x-content-type-options'] = 'nosniff';
  if (setCookies.length > 0) {
    headers['set-cookie'] = [...setCookies];
    headers['cache-control'] = 'no-store';
  }
  return headers;
}

/**
 * The one path every upstream answer takes to the browser, on both transports and for WebSocket
 * handshakes too (101 or a refusal): the filter above, then what every /api/* response carries.
 */
export function toBrowserHeaders(
  entries: Iterable<readonly [string, HeaderValue | undefined]>, ctx: ResponseHeaderContext, setCookies: readonly string[] = [],
): Record<string, HeaderValue> {
  return addProxyResponseHeaders(filterUpstreamResponseHeaders(entries, ctx), setCookies);
}

/**
 * Contract §3: an upstream status outside 100–599, or a 101 the request did not ask for, is not an
 * HTTP answer a browser can be given (Node's writeHead throws on it, and a 101 would hand the
 * browser's connection to the upstream): the proxy answers 502 bad_gateway instead.
 */
export function isRelayableStatus(status: number, upgradeRequested: boolean): boolean {
  return status >= 100 && status <= 599 && (status !== 101 || upgradeRequested);
}

/** The same for a Web Response (the proxy's error responses, and proxy.ts). */
export function withProxyResponseHeaders(response: Response, setCookies: readonly string[] = []): Response {
  const record: Record<string, HeaderValue> = {};
  response.headers.forEach((value, name) => { if (name !== 'set-cookie') record[name] = value; });
  const own = response.headers.getSetCookie();
  if (own.length > 0) record['set-cookie'] = own;
  addProxyResponseHeaders(record, [...own, ...setCookies]);
  const headers = new Headers();
  for (const [name, value] of Object.entries(record)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v); else headers.set(name, value);
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
