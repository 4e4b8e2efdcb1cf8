// One /api/* request on the Node transport, from the moment the policy has planned it until the
// browser's response is finished: the upstream call (undici, server/upstream-pool.ts), the response
// streamed back through the one response filter, the single refresh-and-retry after an upstream's
// 401 invalid_token, and every failure turned into the contract's error while headers can still go.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '@next-token-handler/lib/config';
import type { ForwardPlan } from '@next-token-handler/lib/oauth-proxy/plan-forward';
import { endUpstreamCall, startUpstreamCall } from '@next-token-handler/lib/observability/node-proxy-observation';
import { refreshAfterRejection, upstreamRejectedToken } from '@next-token-handler/lib/oauth-proxy/refresh-before-forward';
import { planWithDpopNonce } from '@next-token-handler/lib/oauth-proxy/upstream-authorization';
import { isRelayableStatus, toBrowserHeaders } from '@next-token-handler/lib/oauth-proxy/response-headers';
import { invalidUpstreamStatus, UpstreamTimeoutError } from '@next-token-handler/lib/oauth-proxy/upstream-failure';
import { NodeRequestHeaders } from './node-request-headers';
import { RequestBody } from './request-body';
import { isHeadersTimeout, type UpstreamCall, type UpstreamHandler, type UpstreamPools } from './upstream-pool';

/** What an exchange needs from the transport that started it. */
export interface ExchangeOwner {
  readonly pools: UpstreamPools;
  /** Answers the browser with the contract's JSON error for `err` (and the refreshed cookies). */
  reply(req: IncomingMessage, res: ServerResponse, err: unknown, setCookies: string[]): void;
  /** Called exactly once, when the browser's response has closed (finished, failed or abandoned). */
  finished(ex: HttpExchange): void;
}

class BrowserClosedError extends Error {
  constructor() { super('the browser closed the connection'); this.name = 'BrowserClosedError'; }
}

export class HttpExchange implements UpstreamHandler {
  /** The upstream call whose callbacks count; those of any earlier call (a drained 401) are ignored. */
  private call: UpstreamCall | undefined;
  private failure: Error | undefined;
  private body: RequestBody | undefined;
  private waitingForDrain = false;
  /** RFC 9449 §9: a DPoP nonce challenge may be answered by one retry (requests without a body only). */
  private nonceRetryable: boolean;
  /** The status the browser got from the upstream (0 while none, or when the proxy answered itself). */
  upstreamStatus = 0;
  /** performance.now() at the start, when the debug log that reports the duration is on. */
  startedAt: number | undefined = undefined;

  constructor(
    private readonly owner: ExchangeOwner,
    /** The app's configuration (contract §8; the one configuration without APPS). */
    readonly config: Config,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    public plan: ForwardPlan,
    /** The refreshed session's cookies, sent with whatever response this exchange ends in. */
    public setCookies: string[],
    hasBody: boolean,
    /** A 401 invalid_token may be answered by one refresh and one retry (GET/HEAD without a body). */
    private retryable: boolean,
  ) {
    if (hasBody) this.body = new RequestBody(req, config.maxBodyBytes);
    this.nonceRetryable = !hasBody;
  }

  /** The error this exchange ended in, if it did not end with the upstream's response. */
  get failed(): Error | undefined { return this.failure; }

  start(): void {
    this.res.once('close', this.onBrowserClose);
    this.send();
  }

  private send(): void {
    const headers = this.plan.headers;
    // Node already answered any `Expect: 100-continue` to the browser; undici refuses to send one.
    if (headers.expect !== undefined) delete headers.expect;
    const url = this.plan.upstreamUrl;
    startUpstreamCall(this.res, headers, this.req.method ?? 'GET'); // [observability] client span + traceparent upstream
    this.owner.pools.dispatch(url.origin, { method: this.req.method ?? 'GET', path: url.pathname + url.search, headers, body: this.body, headersTimeoutMs: this.config.upstreamTimeoutMs }, this);
  }

  onRequestStart(call: UpstreamCall): void {
    this.call = call;
    if (this.failure) call.abort(this.failure);
  }

  onResponseStart(call: UpstreamCall, status: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    if (call !== this.call) return;
    if (!isRelayableStatus(status, false)) { this.fail(invalidUpstreamStatus(status)); return; }
    if (status < 200) return; // 1xx informational (103 Early Hints): the final answer follows
    endUpstreamCall(this.res, status); // [observability] upstream latency to response headers
    // Remembers the upstream's newest nonce whatever happens next (a POST's challenge goes back to the SPA).
    const withNonce = planWithDpopNonce(this.plan, status, headers['www-authenticate'], headers['dpop-nonce']);
    if (withNonce && this.nonceRetryable) {
      // RFC 9449 §9: the upstream asked for its nonce; the same bodiless request once more, with it.
      this.nonceRetryable = false;
      this.call = undefined;
      call.resume(); // the challenge's body is read and dropped, so its connection goes back to the pool
      this.plan = withNonce;
      this.send();
      return;
    }
    if (this.retryable && upstreamRejectedToken(status, headers['www-authenticate'])) {
      this.retryable = false;
      call.pause(); // the 401 waits, unread, while the session is refreshed
      void this.retryAfterRefresh(call, status, headers, statusMessage);
      return;
    }
    this.writeHead(status, headers, statusMessage);
  }

  onResponseData(call: UpstreamCall, chunk: Buffer): void {
    if (call !== this.call) return;
    if (!this.res.write(chunk)) {
      call.pause();
      if (!this.waitingForDrain) { this.waitingForDrain = true; this.res.once('drain', this.onDrain); }
    }
  }

  onResponseEnd(call: UpstreamCall): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.res.end();
  }

  onResponseError(call: UpstreamCall, err: Error): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.fail(isHeadersTimeout(err) ? new UpstreamTimeoutError() : err);
  }

  /**
   * Ends the exchange once: the upstream call and the body feeding it are stopped, and the browser
   * gets the contract's error, or a cut stream if the upstream's headers already went out (RFC 9112
   * §9.6: a response cut short must never look complete).
   */
  private fail(err: Error): void {
    if (this.failure) return;
    // A body over MAX_BODY_BYTES makes undici fail the call with whatever the socket said; the cause is the size.
    this.failure = this.body?.failure ?? err;
    this.body?.stop(this.failure);
    const call = this.call;
    this.call = undefined;
    call?.abort(this.failure);
    if (this.res.headersSent || this.res.destroyed) { this.res.destroy(); return; }
    this.owner.reply(this.req, this.res, this.failure, this.setCookies);
  }

  private writeHead(status: number, headers: Record<string, string | string[] | undefined>, statusMessage: string | undefined): void {
    if (this.res.headersSent || this.res.destroyed) { this.fail(new BrowserClosedError()); return; }
    const { route, upstreamUrl } = this.plan;
    const out = toBrowserHeaders(Object.entries(headers), { route, upstreamUrl, publicOrigin: this.config.publicOrigin }, this.setCookies);
    this.upstreamStatus = status;
    this.res.writeHead(status, statusMessage || undefined, out);
  }

  /** The upstream rejected a token we believed valid: one refresh, then the same GET/HEAD once more. */
  private async retryAfterRefresh(call: UpstreamCall, status: number, headers: Record<string, string | string[] | undefined>, statusMessage: string | undefined): Promise<void> {
    let again;
    try {
      again = await refreshAfterRejection(this.plan, new NodeRequestHeaders({ cookie: this.req.headers.cookie }), this.config);
    } catch (err) {
      if (call === this.call) this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (call !== this.call) return; // the browser left, or the upstream failed, meanwhile
    if (again.setCookies.length === 0) { this.writeHead(status, headers, statusMessage); call.resume(); return; }
    this.call = undefined;
    call.resume(); // the 401's body is read and dropped, so its connection goes back to the pool
    this.plan = again.plan;
    this.setCookies = again.setCookies;
    this.send();
  }

  private readonly onDrain = () => {
    this.waitingForDrain = false;
    this.call?.resume();
  };

  private readonly onBrowserClose = () => {
    // The browser left (e.g. closed an SSE stream) before its response ended: stop the upstream too.
    if (!this.res.writableFinished && !this.failure) {
      this.failure = new BrowserClosedError();
      this.body?.stop(this.failure);
      const call = this.call;
      this.call = undefined;
      call?.abort(this.failure);
    }
    this.owner.finished(this);
  };
}
