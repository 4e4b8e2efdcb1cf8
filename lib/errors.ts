// Library code throws ThError with a code from one closed union; toErrorResponse() is the one place
// that turns any error into the contract's `{code, message}` JSON and an HTTP status.
import { FRONT_CHANNEL_401_CODES, type ThErrorCode } from './client/error-codes';
import { log } from './log';

/** The server's closed list of codes (one list with the client library's: lib/client/error-codes.ts). */
export type ErrorCode = ThErrorCode;

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized_request: 401,
  authorization_error: 400,
  token_expired: 401,
  session_expired: 401,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  authorization_server_error: 502,
  bad_gateway: 502,
  gateway_timeout: 504,
  server_error: 500,
};

// OpenID Connect Core §3.1.2.6: these mean "the user must interact again"; the SPA treats them as 401.
const FRONT_CHANNEL_401: ReadonlySet<string> = new Set(FRONT_CHANNEL_401_CODES);

export interface ThErrorOptions {
  cause?: unknown;
  /** Extra response headers, e.g. Set-Cookie that clears the session. */
  headers?: ReadonlyArray<readonly [string, string]>;
}

export class ThError extends Error {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;

  constructor(readonly code: ErrorCode, message: string, options: ThErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'ThError';
    this.status = STATUS[code];
    this.headers = options.headers ?? [];
  }
}

/**
 * The authorization response carried `error=...` (RFC 6749 §4.1.2.1). The code is passed to the SPA;
 * `error_description` never is, since it is attacker-controllable text.
 */
export class FrontChannelError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;

  constructor(error: string, headers: ReadonlyArray<readonly [string, string]> = []) {
    // RFC 6749 §4.1.2.1: error is limited to %x20-21 / %x23-5B / %x5D-7E; anything else is not echoed.
    const code = /^[a-z0-9_.-]{1,64}$/i.test(error) ? error : 'authorization_error';
    super(`The authorization request failed: ${code}`);
    this.name = 'FrontChannelError';
    this.code = code;
    this.status = FRONT_CHANNEL_401.has(code) ? 401 : 400;
    this.headers = headers;
  }
}

/**
 * A refused back-channel logout request (OIDC Back-Channel Logout 1.0 §2.8): 400 with the OAuth
 * error shape `{error, error_description}` the identity server expects, not the SPA's `{code, message}`.
 */
export class BackChannelLogoutError extends Error {
  readonly status = 400;

  constructor(readonly description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.name = 'BackChannelLogoutError';
  }
}

export const badRequest = (message: string, cause?: unknown) => new ThError('invalid_request', message, { cause });
export const unauthorized = (message: string, cause?: unknown) => new ThError('unauthorized_request', message, { cause });

/** The fields of an error that are safe to log: never messages of foreign errors, which may quote tokens. */
export function describeCause(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { errorType: typeof err };
  const e = err as Error & { code?: unknown; error?: unknown; status?: unknown };
  const out: Record<string, unknown> = { errorName: e.name };
  if (typeof e.code === 'string') out.errorCode = e.code;
  if (typeof e.error === 'string') out.oauthError = e.error;
  if (typeof e.status === 'number') out.upstreamStatus = e.status;
  if (e.cause instanceof Error) out.cause = describeCause(e.cause);
  return out;
}

export function jsonResponse(status: number, body: unknown, headers: ReadonlyArray<readonly [string, string]> = []): Response {
  const h = new Headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  for (const [k, v] of headers) h.append(k, v);
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: h });
}

/**
 * The error as the contract's JSON answer. `extraHeaders` (e.g. Set-Cookie that clears a cookie) are
 * added to the error's own, so callers never re-make an error to attach them.
 */
export function toErrorResponse(err: unknown, context: Record<string, unknown> = {}, extraHeaders: ReadonlyArray<readonly [string, string]> = []): Response {
  if (err instanceof BackChannelLogoutError) {
    log('warn', 'backchannel_logout_rejected', { ...context, reason: err.description });
    return jsonResponse(400, { error: 'invalid_request', error_description: err.description }, extraHeaders);
  }
  if (err instanceof ThError || err instanceof FrontChannelError) {
    const level = err.status >= 500 ? 'error' : 'warn';
    log(level, 'request_rejected', { ...context, code: err.code, status: err.status, ...(err.cause ? { cause: describeCause(err.cause) } : {}) });
    return jsonResponse(err.status, { code: err.code, message: err.message }, [...err.headers, ...extraHeaders]);
  }
  log('error', 'unexpected_error', { ...context, ...describeCause(err) });
  return jsonResponse(500, { code: 'server_error', message: 'The server could not complete the request' }, extraHeaders);
}
