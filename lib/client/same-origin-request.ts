// `th.fetch` only ever talks to the token handler's own origin: the session cookies and the CSRF
// header must never be sent anywhere else (a CSRF token leaked to another origin is a bypass).
import { TokenHandlerError } from './errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Contract §2: the CSRF header is required on every method but GET, HEAD and OPTIONS. */
export const isSafeMethod = (method: string) => SAFE_METHODS.has(method.toUpperCase());

export const csrfHeaderName = (cookiePrefix: string) => `x-${cookiePrefix.toLowerCase()}-csrf`;

/**
 * Builds the Request for `fetch(input, init)`, resolving relative URLs against the page's origin,
 * and refuses any absolute URL on another origin before anything is sent.
 */
export function toSameOriginRequest(input: RequestInfo | URL, init: RequestInit | undefined, origin: string, basePath = '/'): Request {
  const raw = input instanceof Request ? input.url : input instanceof URL ? input.href : String(input);
  const url = new URL(raw, `${origin}${basePath}`);
  if (url.origin !== origin) {
    throw new TokenHandlerError('cross_origin_request', 0, 'th.fetch only calls the application\'s own origin; use the platform fetch for other origins');
  }
  const request = input instanceof Request ? new Request(input, init) : new Request(url, init);
  // Cookies are first-party and SameSite=Strict: never `include` them on anything but this origin.
  return new Request(request, { credentials: 'same-origin', redirect: init?.redirect ?? request.redirect });
}
