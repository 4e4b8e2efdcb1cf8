// The security headers of every response, in one list for both transports: next.config.js hands it to
// Next's headers() (build time: pages, public/ files, agent routes, proxy.ts responses) and the Node
// server entry sets it per request (run time: also /api/* and the answers it gives before Next).
// Plain JavaScript (with security-headers.d.mts for TypeScript) because next.config.js imports it.

// The demo SPA and any Vite/React build load only same-origin files, with no inline script or style.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'",
].join('; ');

/** @type {ReadonlyArray<readonly [string, string]>} */
export const SECURITY_HEADERS = [
  ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
  // Stops a browser from sniffing a JSON or text response into HTML or script.
  ['X-Content-Type-Options', 'nosniff'],
  // Authorization responses put code/state in the URL: never leak them to other sites via Referer.
  ['Referrer-Policy', 'no-referrer'],
  // Clickjacking: frame-ancestors for current browsers, X-Frame-Options for old ones.
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
];

export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

/**
 * RFC 6797 §7.2: an HSTS host must not send Strict-Transport-Security over plain http, so the header
 * follows PUBLIC_ORIGIN's scheme (the scheme the browser uses, also behind a TLS-terminating proxy).
 * @param {string | undefined} publicOrigin
 * @returns {boolean}
 */
export function sendsStrictTransportSecurity(publicOrigin) {
  return typeof publicOrigin === 'string' && publicOrigin.startsWith('https://');
}

/**
 * The headers for an application served on `publicOrigin`.
 * @param {string | undefined} publicOrigin
 * @returns {Array<readonly [string, string]>}
 */
export function securityHeadersFor(publicOrigin) {
  return sendsStrictTransportSecurity(publicOrigin)
    ? [...SECURITY_HEADERS, ['Strict-Transport-Security', STRICT_TRANSPORT_SECURITY]]
    : [...SECURITY_HEADERS];
}
