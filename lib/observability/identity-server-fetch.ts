// The fetch openid-client uses for every identity-server call (its customFetch hook): a client span
// under the request's server span, and the W3C traceparent on the call, when tracing is on; plain
// fetch otherwise. The span's URL is the endpoint without its query (no code, token or state).
import { currentRequestContext } from './request-context';
import { endSpanWithError, endSpanWithStatus, startClientSpan, traceparentOf } from './tracing';

/** What openid-client passes (its CustomFetchOptions): a fetch init with plain-record headers. */
interface IdentityServerRequest {
  headers: Record<string, string>;
  method: string;
  body?: unknown;
  redirect?: 'manual';
  signal?: AbortSignal;
}

export function identityServerFetch(url: string, options: IdentityServerRequest): Promise<Response> {
  const parent = currentRequestContext()?.span;
  const target = parent ? URL.parse(url) : null;
  const span = target ? startClientSpan(parent, `${options.method} identity-server`, {
    'http.request.method': options.method, 'server.address': target.hostname,
    'url.full': target.origin + target.pathname, 'nth.peer': 'identity-server',
  }) : undefined;
  if (!span) return fetch(url, options as RequestInit);
  return fetch(url, { ...options, headers: { ...options.headers, traceparent: traceparentOf(span) } } as RequestInit).then(
    (response) => { endSpanWithStatus(span, response.status); return response; },
    (err: unknown) => { endSpanWithError(span, err instanceof Error ? err.name : 'error'); throw err; },
  );
}
