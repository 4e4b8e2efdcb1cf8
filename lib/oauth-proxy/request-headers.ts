// Which request headers reach an upstream (docs/contract.md §3 "Forwarded" / "Never forwarded"): a drop-list,
// so an API's own headers pass, then exactly one Bearer credential and our own X-Forwarded-*.

/** Read access to request headers: Web `Headers` fits, and the Node transport wraps its header object. */
export interface RequestHeaders {
  get(name: string): string | null;
  forEach(callback: (value: string, name: string) => void): void;
}

// RFC 9110 §7.6.1: hop-by-hop headers describe one connection, never the next one.
const HOP_BY_HOP = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection'];

const DROPPED = new Set([
  ...HOP_BY_HOP,
  // Duende GHSA-vvg7-p7jw-8qr3: the browser's cookies (the encrypted tokens) never leave the BFF.
  'cookie',
  // The upstream trusts exactly one credential: ours. A client-chosen one would be a confused deputy.
  'authorization', 'proxy-authorization',
  // Set by the transport from what it knows, never by the client (RFC 7239 §8.1 spoofing).
  'forwarded', 'x-real-ip', 'host',
  // docs/security.md: method-override headers would turn a CSRF-exempt GET into a state change upstream.
  'x-http-method-override', 'x-http-method', 'x-method-override',
  // Next.js internals (CVE-2025-29927 used x-middleware-subrequest); an upstream Next app must not see them.
  'rsc', 'next-action', 'next-url', 'x-matched-path', 'x-now-route-matches',
  // Orange Tsai, "Breaking Parser Logic" (Black Hat 2018): IIS/Symfony-style upstreams route by these
  // instead of the request line, which would bypass the route prefix the proxy checked.
  'x-original-url', 'x-rewrite-url',
  // Contract §3: client-chosen address and host claims. CDNs and load balancers set these, so
  // upstreams trust them for rate limits, allow-lists and absolute URLs; only the transport speaks
  // for the client's address (X-Forwarded-For) and the public host (X-Forwarded-Host).
  'true-client-ip', 'cf-connecting-ip', 'x-client-ip', 'x-cluster-client-ip', 'fastly-client-ip',
  'x-original-forwarded-for', 'x-forwarded-server', 'x-host', 'x-original-host', 'x-http-host-override',
]);
const DROPPED_PREFIXES = ['x-forwarded-', 'x-middleware-', 'x-nextjs-', 'next-router-', 'x-invoke-', 'x-vercel-'];

export interface UpstreamHeaderOptions {
  /** The CSRF header's name (x-{p}-csrf): a session secret, useless and sensitive upstream. */
  csrfHeader: string;
  /** From upstreamAuthorization(): `authorization` (Bearer or DPoP) and, for DPoP, its `dpop` proof. */
  credential: { authorization: string; dpop?: string };
  /** The upstream's `host[:port]`. */
  upstreamHost: string;
  publicOrigin: URL;
  /** The address of the peer as the transport knows it, or undefined (proxy.ts cannot know it). */
  clientAddress?: string;
  /** TRUST_PROXY: the X-Forwarded-For of the one reverse proxy in front of us is kept. */
  trustProxy: boolean;
  /** A WebSocket handshake: Connection/Upgrade are the point of the request and are kept. */
  upgrade?: boolean;
}

/** The headers to send upstream, as a plain lower-case record (both transports accept one). */
export function buildUpstreamHeaders(headers: RequestHeaders, opts: UpstreamHeaderOptions): Record<string, string> {
  // RFC 9110 §7.6.1: a header named in Connection is hop-by-hop too (`Connection: authorization`).
  const connection = headers.get('connection');
  const named = connection ? new Set(connection.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean)) : undefined;
  const out: Record<string, string> = {};
  headers.forEach((value, rawName) => {
    const name = rawName.toLowerCase();
    // oauth2-proxy CVE-2025-64484: some servers read X_Forwarded_For as X-Forwarded-For.
    if (name.includes('_') || DROPPED.has(name) || named?.has(name) || name === opts.csrfHeader) return;
    for (const prefix of DROPPED_PREFIXES) if (name.startsWith(prefix)) return;
    out[name] = value;
  });
  if (opts.upgrade) {
    out.connection = 'upgrade';
    out.upgrade = headers.get('upgrade') ?? 'websocket';
  }
  out.host = opts.upstreamHost;
  // RFC 6750 §2.1 / RFC 9449 §7.1: exactly one credential, ours (a client's `dpop` header is replaced or dropped).
  delete out.dpop;
  out.authorization = opts.credential.authorization;
  if (opts.credential.dpop !== undefined) out.dpop = opts.credential.dpop;
  out['x-forwarded-host'] = opts.publicOrigin.host;
  out['x-forwarded-proto'] = opts.publicOrigin.protocol.slice(0, -1);
  const forwardedFor = forwardedForChain(headers, opts);
  if (forwardedFor) out['x-forwarded-for'] = forwardedFor;
  return out;
}

/**
 * X-Forwarded-For from the connection, never from the client. Behind one trusted reverse proxy
 * (TRUST_PROXY=true) that proxy's value is kept and the connection's address appended, as proxies do.
 */
function forwardedForChain(headers: RequestHeaders, opts: UpstreamHeaderOptions): string | undefined {
  const received = opts.trustProxy ? headers.get('x-forwarded-for')?.trim() : undefined;
  const peer = opts.clientAddress?.startsWith('::ffff:') ? opts.clientAddress.slice(7) : opts.clientAddress;
  if (received && peer) return `${received}, ${peer}`;
  return received || peer || undefined;
}
