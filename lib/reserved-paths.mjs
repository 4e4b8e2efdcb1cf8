// The paths the token handler owns on its origin (docs/contract.md §1–§3): never the SPA's, never rewritten
// to index.html, never given the SPA's caching. One list for next.config.js (plain JavaScript, hence
// .mjs), the Node server entry and the tests; proxy.ts's matcher must stay a literal for Next and is
// checked against API_PATH by lib/reserved-paths.test.ts.

/** The OAuth Proxy: `/api` and everything under it. */
export const API_PATH = '/api';
/** The OAuth Agent: `/oauth-agent` and everything under it. */
export const AGENT_PATH = '/oauth-agent';
/** Liveness and readiness: exactly these paths. */
export const PROBE_PATHS = Object.freeze(['/healthz', '/readyz']);
/** Next's own build assets: everything under it. */
export const NEXT_ASSETS_PATH = '/_next';

/** True when the request-target is `prefix` itself or lies under it (`prefix/…`, `prefix?…`). */
export function isUnder(url, prefix) {
  return url !== undefined && (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`));
}

/** A request-target of the OAuth Proxy. */
export const isApiPath = (url) => isUnder(url, API_PATH);

/** A request-target whose methods its own handlers answer (the proxy's and the agent's). */
export const isOwnMethodsPath = (url) => isUnder(url, API_PATH) || isUnder(url, AGENT_PATH);

/**
 * The reserved paths as one regular-expression alternative for Next's path-to-regexp `source`
 * patterns, matched against the path without its leading slash:
 * `_next/|api(?:/|$)|oauth-agent(?:/|$)|healthz$|readyz$`.
 */
export const RESERVED_SOURCE_PATTERN = [
  `${NEXT_ASSETS_PATH.slice(1)}/`,
  ...[API_PATH, AGENT_PATH].map((p) => `${p.slice(1)}(?:/|$)`),
  ...PROBE_PATHS.map((p) => `${p.slice(1)}$`),
].join('|');
