// Transport B: /api/* and its WebSocket upgrades, served before Next by http-proxy-middleware (only
// server/ imports it) with a keep-alive agent per upstream. Bodies stream both ways; the shared policy
// (lib/oauth-proxy) decides, this file only moves bytes and enforces limits in flight. WebSocket
// handshakes are relayed by server/websocket-proxy.ts.
import { Agent as HttpAgent, ServerResponse, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { createProxyMiddleware, type Plugin, type RequestHandler } from 'http-proxy-middleware';
import type { Config } from '@next-token-handler/lib/config';
import { badRequest, toErrorResponse } from '@next-token-handler/lib/errors';
import { isLogged, log } from '@next-token-handler/lib/log';
import { planForward, type ForwardPlan } from '@next-token-handler/lib/oauth-proxy/plan-forward';
import { mayRetryAfterRefresh, refreshAfterRejection, refreshBeforeForward, upstreamRejectedToken, type RefreshedPlan } from '@next-token-handler/lib/oauth-proxy/refresh-before-forward';
import { addProxyResponseHeaders, filterUpstreamResponseHeaders, withProxyResponseHeaders } from '@next-token-handler/lib/oauth-proxy/response-headers';
import { BodyTooLargeError, payloadTooLarge, toUpstreamError, UpstreamTimeoutError } from '@next-token-handler/lib/oauth-proxy/upstream-failure';
import { NodeRequestHeaders } from './node-request-headers';
import { requestUpstreamAgain, writeUpstreamResponse } from './upstream-response';
import { WebSocketProxy } from './websocket-proxy';
import { answerEarly } from './write-response';

/** One request in flight: what the plugin hooks need to find from `req`. */
interface Exchange {
  plan: ForwardPlan;
  /** The app's configuration (contract §8; the one configuration without APPS). */
  config: Config;
  res: ServerResponse;
  proxyReq?: ClientRequest;
  timer?: NodeJS.Timeout;
  /** Set once the exchange has failed; the upstream call is aborted with it as soon as it exists. */
  failed?: Error;
  /** The refreshed session's cookies, sent with whatever response this exchange ends in. */
  setCookies: string[];
  /** The browser's Cookie header (req.headers is replaced by the upstream's), for a refresh after a 401. */
  cookie?: string;
  /** A 401 invalid_token may be answered by one refresh and one retry (GET/HEAD without a body). */
  retryable?: boolean;
}

// The exchange rides on the request itself rather than in a WeakMap: a WeakMap entry lives until a
// full GC proves its key dead, which kept every finished request's objects alive into the old
// generation (measured: most of the Node transport's garbage-collection cost).
const EXCHANGE = Symbol('next-token-handler.exchange');
type WithExchange = IncomingMessage & { [EXCHANGE]?: Exchange };
const exchangeOf = (req: IncomingMessage) => (req as WithExchange)[EXCHANGE];
const IDLE_UPSTREAM_SOCKET_MS = 4_000;

export const isApiPath = (url: string | undefined) =>
  url !== undefined && (url === '/api' || url.startsWith('/api/') || url.startsWith('/api?'));

export class ApiProxy {
  private readonly proxies = new Map<string, RequestHandler>();
  private readonly agents = new Map<string, HttpAgent>();
  private readonly websockets: WebSocketProxy;

  constructor(private readonly config: Config) {
    this.websockets = new WebSocketProxy(config);
  }

  /** Serves one /api/* request (of `config`'s app, with APPS): refused with the contract's JSON, or streamed to its upstream. */
  handle(req: IncomingMessage, res: ServerResponse, config: Config = this.config): void {
    let plan: ForwardPlan;
    try {
      plan = planForward({ method: req.method ?? 'GET', target: req.url ?? '/', headers: new NodeRequestHeaders(req.headers), clientAddress: req.socket.remoteAddress }, config);
      checkBodyFraming(req, config.maxBodyBytes);
    } catch (err) {
      this.reply(req, res, err);
      return;
    }
    if (!plan.needsRefresh) { this.forward(req, res, { plan, setCookies: [] }, config); return; }
    // The body is not read while the refresh runs: nothing consumes the request stream until it is piped.
    const headers = new NodeRequestHeaders(req.headers);
    refreshBeforeForward(plan, headers, config).then(
      (refreshed) => this.forward(req, res, refreshed, config),
      (err: unknown) => this.reply(req, res, err),
    );
  }

  /** WebSocket handshakes on /api/*. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, config: Config = this.config): void {
    this.websockets.upgrade(req, socket, head, config);
  }

  /** SIGTERM: open WebSockets are closed; in-flight HTTP exchanges keep their upstream sockets until done. */
  close(): void {
    this.websockets.close();
  }

  private forward(req: IncomingMessage, res: ServerResponse, { plan, setCookies }: RefreshedPlan, config: Config): void {
    // The browser left while a refresh ran: nothing to forward (its cookies come with its next request).
    if (res.destroyed) return;
    const chunked = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined;
    const hasBody = chunked || Number(req.headers['content-length'] ?? 0) > 0;
    const ex: Exchange = {
      plan, config, res, setCookies, cookie: req.headers.cookie,
      retryable: mayRetryAfterRefresh(req.method ?? 'GET', hasBody, setCookies.length > 0),
    };
    (req as WithExchange)[EXCHANGE] = ex;
    const started = isLogged('debug') ? performance.now() : undefined; // no clock read or log fields when unlogged
    req.url = plan.upstreamUrl.pathname + plan.upstreamUrl.search;
    req.headers = plan.headers;
    // Node frames a body it has no length for only when told to; unframed bytes would be read upstream as a new request.
    if (chunked) req.headers['transfer-encoding'] = 'chunked';

    // UPSTREAM_TIMEOUT_MS counts from the last request byte to the response headers (an upload in
    // progress keeps it alive); streams are not cut once headers have arrived.
    ex.timer = setTimeout(() => this.abort(req, ex, new UpstreamTimeoutError()), config.upstreamTimeoutMs);
    if (hasBody) this.countBody(req, ex);
    res.once('close', () => {
      clearTimeout(ex.timer);
      // The browser left (e.g. closed an SSE stream): stop the upstream too.
      if (!res.writableFinished) ex.proxyReq?.destroy();
      if (started !== undefined) log('debug', 'api_forwarded', { transport: 'node', route: plan.route.prefix, status: res.statusCode, ms: Math.round(performance.now() - started) });
    });
    void this.proxyFor(plan.upstreamUrl)(req, res, (err?: unknown) => this.abort(req, ex, err instanceof Error ? err : new Error('not proxied')));
  }

  /** MAX_BODY_BYTES in flight, whatever the framing said; each chunk also restarts the upstream timeout. */
  private countBody(req: IncomingMessage, ex: Exchange): void {
    let received = 0;
    const limit = ex.config.maxBodyBytes;
    req.pause(); // nothing flows until the proxy pipes, so this listener sees every chunk first
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) this.abort(req, ex, new BodyTooLargeError());
      else if (!ex.failed) ex.timer?.refresh();
    });
  }

  /** Ends an exchange once: the upstream call is aborted, and the browser gets the contract's error. */
  private abort(req: IncomingMessage, ex: Exchange, err: Error): void {
    clearTimeout(ex.timer);
    if (ex.failed) return;
    ex.failed = err;
    req.unpipe();
    req.resume(); // keep reading so the 413 can be delivered; the connection closes after it
    ex.proxyReq?.destroy(err);
    this.reply(req, ex.res, err, ex.setCookies);
  }

  private reply(req: IncomingMessage, res: ServerResponse, err: unknown, setCookies: string[] = []): void {
    const response = withProxyResponseHeaders(toErrorResponse(toUpstreamError(err), { transport: 'node', method: req.method, path: pathOf(req) }), setCookies);
    answerEarly(req, res, response);
  }

  private proxyFor(upstream: URL): RequestHandler {
    let proxy = this.proxies.get(upstream.origin);
    if (!proxy) {
      proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
        target: upstream.origin,
        agent: this.agentFor(upstream),
        selfHandleResponse: true, // written by respond(): a 401 invalid_token may be held back for a retry
        toProxy: true, // use req.url (the policy's upstream path) verbatim: no url.parse re-encoding
        xfwd: false, // X-Forwarded-* come from the policy, never from the client
        changeOrigin: false, // Host is in the policy's headers
        followRedirects: false, // contract §3: upstream redirects are passed, never followed
        ejectPlugins: true,
        plugins: [this.hooks],
      });
      this.proxies.set(upstream.origin, proxy);
    }
    return proxy;
  }

  private agentFor(upstream: URL): HttpAgent {
    let agent = this.agents.get(upstream.origin);
    if (!agent) {
      // Keep-alive per upstream: measured 5-7x the throughput of a connection per request (architecture.md).
      // An idle pooled socket is dropped after 4 s, before the 5 s keep-alive timeout of Node upstreams:
      // reusing one the upstream is closing at that moment fails the request (502, seen in tests).
      // (Node's own use of the upstream's Keep-Alive hint needs the raw header, which the filter drops.)
      const options = { keepAlive: true, timeout: IDLE_UPSTREAM_SOCKET_MS };
      agent = upstream.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
      this.agents.set(upstream.origin, agent);
    }
    return agent;
  }

  /** The upstream's response to the browser: its status and body, the filtered headers, the refreshed cookies. */
  private respond(ex: Exchange, upstream: IncomingMessage): void {
    const headers = addProxyResponseHeaders(filterUpstreamResponseHeaders(Object.entries(upstream.headers), {
      route: ex.plan.route, upstreamUrl: ex.plan.upstreamUrl, publicOrigin: ex.config.publicOrigin,
    }), ex.setCookies);
    writeUpstreamResponse(ex.res, upstream, headers);
  }

  /** The upstream rejected a token we believed valid: one refresh, then the same GET/HEAD once more. */
  private async retryAfterRefresh(req: IncomingMessage, ex: Exchange, rejected: IncomingMessage): Promise<void> {
    let again: RefreshedPlan;
    try {
      again = await refreshAfterRejection(ex.plan, new NodeRequestHeaders({ cookie: ex.cookie }), ex.config);
    } catch (err) {
      rejected.destroy();
      this.reply(req, ex.res, err);
      return;
    }
    if (again.setCookies.length === 0) { this.respond(ex, rejected); return; }
    rejected.resume(); // drain the 401's body so its connection goes back to the pool
    if (ex.res.destroyed) return;
    ex.plan = again.plan;
    ex.setCookies = again.setCookies;
    ex.timer = setTimeout(() => this.abort(req, ex, new UpstreamTimeoutError()), ex.config.upstreamTimeoutMs);
    const retry = requestUpstreamAgain(ex.plan, req.method ?? 'GET', this.agentFor(ex.plan.upstreamUrl));
    ex.proxyReq = retry;
    retry.on('response', (upstream) => { clearTimeout(ex.timer); this.respond(ex, upstream); });
    retry.on('error', (err) => this.abort(req, ex, err));
    retry.end();
  }

  private readonly hooks: Plugin<IncomingMessage, ServerResponse> = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq, req) => {
      const ex = exchangeOf(req);
      if (!ex) return;
      ex.proxyReq = proxyReq;
      if (ex.failed) proxyReq.destroy(ex.failed);
    });
    proxyServer.on('proxyRes', (proxyRes, req, res) => {
      const ex = exchangeOf(req);
      if (!ex) { proxyRes.destroy(); res.destroy(); return; }
      clearTimeout(ex.timer);
      if (ex.retryable && upstreamRejectedToken(proxyRes.statusCode ?? 0, proxyRes.headers['www-authenticate'])) {
        ex.retryable = false;
        void this.retryAfterRefresh(req, ex, proxyRes);
        return;
      }
      this.respond(ex, proxyRes);
    });
    proxyServer.on('error', (err, req, res) => {
      const ex = exchangeOf(req);
      if (ex) this.abort(req, ex, err); else if (res instanceof ServerResponse) this.reply(req, res, err);
    });
  };
}

/**
 * 413 before any upstream is contacted when Content-Length is over MAX_BODY_BYTES. A chunked DELETE or
 * OPTIONS body cannot be forwarded framed by http-proxy (it forces Content-Length: 0 on those), so it is refused.
 */
function checkBodyFraming(req: IncomingMessage, limit: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= limit)) throw payloadTooLarge();
  if (declared === undefined && req.headers['transfer-encoding'] !== undefined && (req.method === 'DELETE' || req.method === 'OPTIONS')) {
    throw badRequest('A DELETE or OPTIONS body needs a Content-Length');
  }
}

const pathOf = (req: IncomingMessage) => (req.url ?? '').split('?')[0];
