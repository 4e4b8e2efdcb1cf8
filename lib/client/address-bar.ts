// After login/end the authorization response parameters must leave the address bar: a reload or a
// shared link would otherwise replay a used `code`/`state` (RFC 9700 §4.2.4: authorization
// responses must not leak through history or referrers).

const AUTHORIZATION_RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'];

/** True when the URL carries an authorization response (success or error) for login/end. */
export function holdsAuthorizationResponse(href: string): boolean {
  const { searchParams } = new URL(href);
  return searchParams.has('state') && (searchParams.has('code') || searchParams.has('error'));
}

/** The same URL without the authorization response parameters, or null when there is none to remove. */
export function removeAuthorizationResponseParams(href: string): string | null {
  const url = new URL(href);
  if (!AUTHORIZATION_RESPONSE_PARAMS.some((p) => url.searchParams.has(p))) return null;
  for (const p of AUTHORIZATION_RESPONSE_PARAMS) url.searchParams.delete(p);
  return `${url.pathname}${url.search}${url.hash}`;
}
