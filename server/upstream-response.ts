// The Node transport writes upstream responses itself (http-proxy's selfHandleResponse), so that a
// 401 invalid_token can be held back while the session is refreshed and the request retried.
import { request as httpRequest, type Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ForwardPlan } from '@next-token-handler/lib/oauth-proxy/plan-forward';

/** Streams `upstream` to the browser with the already filtered `headers`. */
export function writeUpstreamResponse(res: ServerResponse, upstream: IncomingMessage, headers: Record<string, string | string[]>): void {
  if (res.headersSent || res.destroyed) { upstream.destroy(); return; }
  res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, headers);
  // An upstream that resets mid-body: the browser's response is cut too, never ended as if complete.
  upstream.once('error', () => res.destroy());
  upstream.pipe(res);
}

/** A bodiless retry of `plan` on the pooled connection (http-proxy cannot re-send a consumed request). */
export function requestUpstreamAgain(plan: ForwardPlan, method: string, agent: Agent | undefined): ClientRequest {
  const send = plan.upstreamUrl.protocol === 'https:' ? httpsRequest : httpRequest;
  return send(plan.upstreamUrl, { method, headers: plan.headers, agent });
}
