// The one list of error codes the token handler answers with (docs/contract.md §2, §3). Both sides
// derive their types from it: lib/errors.ts (the server's closed ErrorCode) and lib/client/errors.ts
// (the browser library's ServerErrorCode). It lives in lib/client because the client library is
// compiled on its own (tsconfig.client.json, rootDir lib/client) and must stay self-contained; it
// imports nothing, so the server reading it pulls no browser code in and the browser bundle no Node code.

/** Codes of the server's own errors (ThError): `{code, message}` with the status lib/errors.ts maps. */
export const SERVER_ERROR_CODES = [
  'invalid_request',
  'unauthorized_request',
  'authorization_error',
  'token_expired',
  'session_expired',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'authorization_server_error',
  'bad_gateway',
  'gateway_timeout',
  'server_error',
] as const;

/**
 * Front-channel `error` values of the authorization response that login/end passes through with 401:
 * OpenID Connect Core §3.1.2.6, "the user must interact again". Any other front-channel value passes
 * through with 400 (lib/errors.ts FrontChannelError).
 */
export const FRONT_CHANNEL_401_CODES = [
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
] as const;

export type ThErrorCode = (typeof SERVER_ERROR_CODES)[number];
export type FrontChannel401Code = (typeof FRONT_CHANNEL_401_CODES)[number];
