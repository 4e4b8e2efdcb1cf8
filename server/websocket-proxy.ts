// WebSocket upgrades on /api/* (Node transport only; proxy.ts cannot take them): the shared policy and
// the transparent refresh decide, as for HTTP, then the handshake goes to the upstream on a fresh
// connection of its own (a WebSocket owns its connection; no pooling) with node:http. Whatever the
// upstream answers, 101 or a refusal, passes the same response filter as HTTP (toBrowserHeaders).
// Observed as an /api/* request (docs/contract.md §9): X-Request-Id on the answer, upstream and in the
// log lines, and one count by route and status (101 for an upgrade) when the handshake is answered.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '@next-token-handler/lib/config';
import { toErrorResponse, unauthorized } from '@next-token-handler/lib/errors';
import { countProxyRequest } from '@next-token-handler/lib/observability/metrics';
import { runInRequestContext } from '@next-token-handler/lib/observability/request-context';
import { REQUEST_ID_HEADER, requestIdFor } from '@next-token-handler/lib/observability/request-id';
import { proxyRouteLabel } from '@next-token-handler/lib/observability/route-label';
import { planForward, type ForwardPlan } from '@next-token-handler/lib/oauth-proxy/plan-forward';
import { isReadyToForward, refreshBeforeForward, type RefreshedPlan } from '@next-token-handler/lib/oauth-proxy/refresh-before-forward';
import { addProxyResponseHeaders, isRelayableStatus, toBrowserHeaders, withProxyResponseHeaders } from '@next-token-handler/lib/oauth-proxy/response-headers';
import { invalidUpstreamStatus, toUpstreamError, UpstreamTimeoutError } from '@next-token-handler/lib/oauth-proxy/upstream-failure';
import { registerOpenSocket } from '@next-token-handler/lib/revocation/open-sockets';
import { NodeRequestHeaders } from './node-request-headers';
import { writeSocketError, writeSocketHead, writeSocketResponse } from './write-response';

/** A refused handshake's body is relayed up to this size (it is an error page, not a stream). */
const MAX_REFUSAL_BODY_BYTES = 64 * 1024;

/** One handshake's observation: its request id, and the count made once it is answered. */
interface Handshake {
  requestId: string;
  answered(status: number): void;
}

export class WebSocketProxy {
  private readonly open = new Set<Duplex>();

  constructor(private readonly config: Config) {}

  /** Only from PUBLIC_ORIGIN with a valid session (RFC 6455 §10.2). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, config: Config = this.config): void {
    // The id goes upstream with the request's headers, as on HTTP (lib/observability/node-proxy-observation.ts).
    const requestId = requestIdFor(req.headers[REQUEST_ID_HEADER]);
    req.headers[REQUEST_ID_HEADER] = requestId;
    const route = proxyRouteLabel(req.url, config.apiRoutes);
    const handshake: Handshake = { requestId, answered: (status) => countProxyRequest(route, status) };
    runInRequestContext({ requestId }, () => this.handshake(req, socket, head, config, handshake));
  }

  private handshake(req: IncomingMessage, socket: Duplex, head: Buffer, config: Config, hs: Handshake): void {
    let plan: ForwardPlan;
    try {
      // Browsers send Origin on every handshake and no CSRF header can be added: Origin is the check.
      if (req.headers.origin !== config.publicOrigin) throw unauthorized('The WebSocket handshake is not from the application\'s origin');
      plan = planForward({ method: req.method ?? 'GET', target: req.url ?? '/', headers: new NodeRequestHeaders(req.headers), clientAddress: req.socket.remoteAddress, upgrade: true }, config);
    } catch (err) {
      this.refuse(req, socket, err, hs);
      return;
    }
    if (isReadyToForward(plan)) { this.relay(req, socket, head, { plan, setCookies: [] }, config, hs); return; }
    refreshBeforeForward(plan, new NodeRequestHeaders(req.headers), config).then(
      (refreshed) => this.relay(req, socket, head, refreshed, config, hs),
      (err: unknown) => this.refuse(req, socket, err, hs),
    );
  }

  /** SIGTERM: open WebSockets are closed. */
  close(): void {
    for (const socket of this.open) socket.end();
  }

  private refuse(req: IncomingMessage, socket: Duplex, err: unknown, hs: Handshake): void {
    const response = withProxyResponseHeaders(toErrorResponse(toUpstreamError(err), { transport: 'node', path: pathOf(req), websocket: true }));
    response.headers.set(REQUEST_ID_HEADER, hs.requestId);
    hs.answered(response.status);
    void writeSocketResponse(socket, response);
  }

  private relay(req: IncomingMessage, socket: Duplex, head: Buffer, { plan, setCookies }: RefreshedPlan, config: Config, hs: Handshake): void {
    if (socket.destroyed) return;
    const url = plan.upstreamUrl;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(url, { method: req.method, headers: plan.headers, agent: false });
    let answered = false;
    this.open.add(socket);
    // Contract §7: a revoked session's WebSockets are closed (lib/revocation/open-sockets.ts).
    const unregister = registerOpenSocket(socket, plan.session);
    // UPSTREAM_TIMEOUT_MS bounds the wait for the upstream's handshake response, as for any request.
    const timer = setTimeout(() => fail(new UpstreamTimeoutError()), config.upstreamTimeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      if (answered) { socket.destroy(); upstream.destroy(); return; }
      answered = true;
      upstream.destroy();
      const error = toUpstreamError(err);
      toErrorResponse(error, { transport: 'node', path: pathOf(req), websocket: true }); // logs it
      hs.answered(error.status);
      if (socket.writable && !socket.destroyed) {
        writeSocketError(socket, error.status, { code: error.code, message: error.message }, { ...addProxyResponseHeaders({}, setCookies), [REQUEST_ID_HEADER]: hs.requestId });
      } else {
        socket.destroy();
      }
    };
    const headersFor = (r: IncomingMessage): Record<string, string | string[]> => ({
      ...toBrowserHeaders(Object.entries(r.headers), { route: plan.route, upstreamUrl: url, publicOrigin: config.publicOrigin }, setCookies),
      [REQUEST_ID_HEADER]: hs.requestId,
    });

    socket.once('close', () => { clearTimeout(timer); this.open.delete(socket); unregister(); upstream.destroy(); });
    socket.on('error', () => upstream.destroy());
    upstream.on('error', fail);
    upstream.on('upgrade', (res: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
      clearTimeout(timer);
      if (answered || socket.destroyed) { upstreamSocket.destroy(); return; }
      answered = true;
      // Connection/Upgrade are hop-by-hop and filtered like any other; a 101 states them anew (RFC 9110 §7.8).
      const headers = headersFor(res);
      headers.connection = 'Upgrade';
      headers.upgrade = res.headers.upgrade ?? 'websocket';
      hs.answered(101);
      writeSocketHead(socket, 101, res.statusMessage, headers);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      splice(socket, upstreamSocket);
    });
    upstream.on('response', (res: IncomingMessage) => {
      // Not a 101: the upstream refused the handshake (or redirected it); relayed filtered, then closed.
      clearTimeout(timer);
      if (!isRelayableStatus(res.statusCode ?? 0, false)) { res.destroy(); fail(invalidUpstreamStatus(res.statusCode ?? 0)); return; }
      answered = true;
      hs.answered(res.statusCode ?? 502);
      relayRefusal(socket, res, headersFor(res));
    });
    // Bytes the browser sent after its handshake belong to the WebSocket: read again once spliced.
    if (head.length > 0) socket.unshift(head);
    upstream.end();
  }
}

/** A WebSocket's two connections, each closing the other. */
function splice(browser: Duplex, upstream: Socket): void {
  upstream.setTimeout(0);
  upstream.setNoDelay(true);
  upstream.setKeepAlive(true, 0);
  upstream.on('error', () => browser.destroy());
  browser.on('error', () => upstream.destroy());
  upstream.once('close', () => browser.destroy());
  browser.once('close', () => upstream.destroy());
  upstream.pipe(browser);
  browser.pipe(upstream);
}

/** The upstream's non-101 answer with its (bounded) body, framed by Content-Length, then the socket closes. */
function relayRefusal(socket: Duplex, res: IncomingMessage, headers: Record<string, string | string[]>): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REFUSAL_BODY_BYTES) { res.destroy(); socket.destroy(); return; }
    chunks.push(chunk);
  });
  res.once('error', () => socket.destroy());
  res.once('end', () => {
    if (socket.destroyed) return;
    const body = Buffer.concat(chunks);
    delete headers['content-length'];
    writeSocketHead(socket, res.statusCode ?? 502, res.statusMessage, { ...headers, 'content-length': String(body.length), connection: 'close' });
    socket.once('finish', () => socket.destroy());
    socket.end(body);
  });
}

const pathOf = (req: IncomingMessage) => (req.url ?? '').split('?')[0];
