// WebSocket upgrades on /api/* (Node transport only; proxy.ts cannot take them): the shared policy and
// the transparent refresh decide, as for HTTP, then http-proxy-middleware relays the handshake and
// the frames on a fresh upstream connection (a WebSocket owns its connection; no pooling).
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyMiddleware, type Plugin, type RequestHandler } from 'http-proxy-middleware';
import type { Config } from '@next-token-handler/lib/config';
import { toErrorResponse, unauthorized } from '@next-token-handler/lib/errors';
import { planForward, type ForwardPlan } from '@next-token-handler/lib/oauth-proxy/plan-forward';
import { refreshBeforeForward, type RefreshedPlan } from '@next-token-handler/lib/oauth-proxy/refresh-before-forward';
import { addProxyResponseHeaders, withProxyResponseHeaders } from '@next-token-handler/lib/oauth-proxy/response-headers';
import { toUpstreamError, UpstreamTimeoutError } from '@next-token-handler/lib/oauth-proxy/upstream-failure';
import { NodeRequestHeaders } from './node-request-headers';
import { writeSocketError, writeSocketResponse } from './write-response';

/** One handshake in flight. */
interface Handshake {
  plan: ForwardPlan;
  /** The refreshed session's cookies, sent on the handshake response (101 or an error). */
  setCookies: string[];
  proxyReq?: ClientRequest;
  timer?: NodeJS.Timeout;
  failed?: Error;
  /** The upstream answered (101 or otherwise); no error response fits any more. */
  answered?: boolean;
}

export class WebSocketProxy {
  private readonly proxies = new Map<string, RequestHandler>();
  private readonly open = new Set<Duplex>();
  private readonly handshakes = new WeakMap<IncomingMessage, Handshake>();

  constructor(private readonly config: Config) {}

  /** Only from PUBLIC_ORIGIN with a valid session (RFC 6455 §10.2). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, config: Config = this.config): void {
    let plan: ForwardPlan;
    try {
      // Browsers send Origin on every handshake and no CSRF header can be added: Origin is the check.
      if (req.headers.origin !== config.publicOrigin) throw unauthorized('The WebSocket handshake is not from the application\'s origin');
      plan = planForward({ method: req.method ?? 'GET', target: req.url ?? '/', headers: new NodeRequestHeaders(req.headers), clientAddress: req.socket.remoteAddress, upgrade: true }, config);
    } catch (err) {
      this.refuse(req, socket, err);
      return;
    }
    if (!plan.needsRefresh) { this.relay(req, socket, head, { plan, setCookies: [] }); return; }
    refreshBeforeForward(plan, new NodeRequestHeaders(req.headers), config).then(
      (refreshed) => this.relay(req, socket, head, refreshed),
      (err: unknown) => this.refuse(req, socket, err),
    );
  }

  /** SIGTERM: open WebSockets are closed. */
  close(): void {
    for (const socket of this.open) socket.end();
  }

  private refuse(req: IncomingMessage, socket: Duplex, err: unknown): void {
    const response = toErrorResponse(toUpstreamError(err), { transport: 'node', path: pathOf(req), websocket: true });
    void writeSocketResponse(socket, withProxyResponseHeaders(response));
  }

  private relay(req: IncomingMessage, socket: Duplex, head: Buffer, { plan, setCookies }: RefreshedPlan): void {
    if (socket.destroyed) return;
    const hs: Handshake = { plan, setCookies };
    this.handshakes.set(req, hs);
    req.url = plan.upstreamUrl.pathname + plan.upstreamUrl.search;
    req.headers = plan.headers;
    this.open.add(socket);
    // UPSTREAM_TIMEOUT_MS bounds the wait for the upstream's handshake response, as for any request.
    hs.timer = setTimeout(() => {
      hs.failed = new UpstreamTimeoutError();
      if (hs.proxyReq) hs.proxyReq.destroy(hs.failed); // → the proxy's 'error' event answers 504
      else this.fail(req, socket, hs, hs.failed);
    }, this.config.upstreamTimeoutMs);
    socket.once('close', () => { clearTimeout(hs.timer); this.open.delete(socket); });
    this.proxyFor(plan.upstreamUrl).upgrade?.(req, socket as Socket, head);
  }

  /**
   * The upstream failed before answering the handshake: a 502/504 JSON while the socket can still
   * take it. Written synchronously, since http-proxy ends the socket right after its 'error' event.
   */
  private fail(req: IncomingMessage, socket: Duplex, hs: Handshake | undefined, err: Error): void {
    if (hs) clearTimeout(hs.timer);
    const error = toUpstreamError(err);
    toErrorResponse(error, { transport: 'node', path: pathOf(req), websocket: true }); // logs it
    if (!hs?.answered && socket.writable && !socket.destroyed) {
      writeSocketError(socket, error.status, { code: error.code, message: error.message }, addProxyResponseHeaders({}, hs?.setCookies));
    } else {
      socket.destroy();
    }
  }

  private proxyFor(upstream: URL): RequestHandler {
    let proxy = this.proxies.get(upstream.origin);
    if (!proxy) {
      proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
        target: upstream.origin,
        toProxy: true, // use req.url (the policy's upstream path) verbatim: no url.parse re-encoding
        xfwd: false, // X-Forwarded-* come from the policy, never from the client
        changeOrigin: false, // Host is in the policy's headers
        followRedirects: false,
        ejectPlugins: true,
        plugins: [this.hooks],
      });
      this.proxies.set(upstream.origin, proxy);
    }
    return proxy;
  }

  private readonly hooks: Plugin<IncomingMessage, ServerResponse> = (proxyServer) => {
    proxyServer.on('proxyReqWs', (proxyReq, req) => {
      const hs = this.handshakes.get(req);
      if (hs) {
        hs.proxyReq = proxyReq;
        if (hs.failed) proxyReq.destroy(hs.failed);
      }
      // Runs before http-proxy copies the handshake response onto the browser's socket.
      const answered = (r: IncomingMessage) => {
        if (hs) { hs.answered = true; clearTimeout(hs.timer); }
        for (const name of Object.keys(r.headers)) {
          if (name === 'set-cookie' || name.startsWith('x-middleware-') || name.startsWith('x-nextjs-')) delete r.headers[name];
        }
        // A refreshed session's cookies ride on the handshake response (101 or a refusal).
        addProxyResponseHeaders(r.headers as Record<string, string | string[]>, hs?.setCookies);
      };
      proxyReq.prependListener('response', answered);
      proxyReq.prependListener('upgrade', answered);
    });
    proxyServer.on('error', (err, req, target) => {
      const hs = this.handshakes.get(req);
      this.fail(req, target as Duplex, hs, hs?.failed ?? err);
    });
  };
}

const pathOf = (req: IncomingMessage) => (req.url ?? '').split('?')[0];
