// Transport B: /api/* and its WebSocket upgrades on the Node server entry, served before Next. The
// shared policy (lib/oauth-proxy) decides; this file runs it, and server/http-exchange.ts moves the
// bytes (undici Pool per upstream, server/upstream-pool.ts; bodies stream both ways). WebSocket
// handshakes are relayed by server/websocket-proxy.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '@next-token-handler/lib/config';
import { badRequest, toErrorResponse } from '@next-token-handler/lib/errors';
import { isLogged, log } from '@next-token-handler/lib/log';
import { planForward, type ForwardPlan } from '@next-token-handler/lib/oauth-proxy/plan-forward';
import { isReadyToForward, mayRetryAfterRefresh, refreshBeforeForward, type RefreshedPlan } from '@next-token-handler/lib/oauth-proxy/refresh-before-forward';
import { withProxyResponseHeaders } from '@next-token-handler/lib/oauth-proxy/response-headers';
import { payloadTooLarge, toUpstreamError } from '@next-token-handler/lib/oauth-proxy/upstream-failure';
import { HttpExchange, type ExchangeOwner } from './http-exchange';
import { NodeRequestHeaders } from './node-request-headers';
import { UpstreamPools } from './upstream-pool';
import { WebSocketProxy } from './websocket-proxy';
import { answerEarly } from './write-response';

export { isApiPath } from '@next-token-handler/lib/reserved-paths';

export class ApiProxy implements ExchangeOwner {
  readonly pools: UpstreamPools;
  private readonly websockets: WebSocketProxy;

  constructor(readonly config: Config) {
    this.pools = new UpstreamPools(config.upstreamTimeoutMs);
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
    if (isReadyToForward(plan)) { this.forward(req, res, plan, NO_COOKIES, config); return; }
    // The body is not read while the refresh runs: nothing consumes the request stream until it is sent.
    refreshBeforeForward(plan, new NodeRequestHeaders(req.headers), config).then(
      (refreshed: RefreshedPlan) => this.forward(req, res, refreshed.plan, refreshed.setCookies, config),
      (err: unknown) => this.reply(req, res, err),
    );
  }

  /** WebSocket handshakes on /api/*. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, config: Config = this.config): void {
    this.websockets.upgrade(req, socket, head, config);
  }

  /** SIGTERM: open WebSockets are closed; in-flight HTTP exchanges keep their upstream sockets until done. */
  close(): void {
    // The pools stay open: a browser's keep-alive connection may still bring a request until the server closes.
    this.websockets.close();
  }

  /** Every error answer of the Node transport's /api/*: the contract's JSON, the refreshed cookies, nosniff. */
  reply(req: IncomingMessage, res: ServerResponse, err: unknown, setCookies: string[] = NO_COOKIES): void {
    const response = withProxyResponseHeaders(toErrorResponse(toUpstreamError(err), { transport: 'node', method: req.method, path: pathOf(req) }), setCookies);
    answerEarly(req, res, response);
  }

  /**
   * The one place a forwarded request ends, whatever happened (the upstream's answer streamed, an
   * error answered, the browser gone): per-request metrics and trace hooks belong here.
   */
  finished(ex: HttpExchange): void {
    const started = ex.startedAt;
    if (started === undefined) return;
    log('debug', 'api_forwarded', {
      transport: 'node', route: ex.plan.route.prefix, status: ex.res.statusCode, refreshed: ex.setCookies.length > 0,
      ms: Math.round(performance.now() - started), ...(ex.failed ? { failed: ex.failed.name } : {}),
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, plan: ForwardPlan, setCookies: string[], config: Config): void {
    // The browser left while a refresh ran: nothing to forward (its cookies come with its next request).
    if (res.destroyed) return;
    const length = req.headers['content-length'];
    const hasBody = length === undefined ? req.headers['transfer-encoding'] !== undefined : Number(length) > 0;
    const ex = new HttpExchange(this, config, req, res, plan, setCookies, hasBody, mayRetryAfterRefresh(req.method ?? 'GET', hasBody, setCookies.length > 0));
    if (isLogged('debug')) ex.startedAt = performance.now(); // no clock read or log fields when unlogged
    ex.start();
  }
}

const NO_COOKIES: string[] = [];

/**
 * 413 before any upstream is contacted when Content-Length is over MAX_BODY_BYTES. A chunked DELETE or
 * OPTIONS body is refused: RFC 9110 §9.3.5/§9.3.7 give such a body no meaning, and upstreams disagree
 * on whether to read it (a body one side skips is a smuggled request to the other).
 */
function checkBodyFraming(req: IncomingMessage, limit: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= limit)) throw payloadTooLarge();
  if (declared === undefined && req.headers['transfer-encoding'] !== undefined && (req.method === 'DELETE' || req.method === 'OPTIONS')) {
    throw badRequest('A DELETE or OPTIONS body needs a Content-Length');
  }
}

const pathOf = (req: IncomingMessage) => (req.url ?? '').split('?')[0];
