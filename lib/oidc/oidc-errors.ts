// Maps what openid-client throws to the contract's error codes (docs/contract.md §2 "Errors"). Messages are
// ours: a foreign error's message may quote the identity server's response, never echoed.
import * as client from 'openid-client';
import { FrontChannelError, ThError } from '../errors';

/** The back-channel step that failed; refresh and UserInfo have codes of their own. */
export type OidcStep = 'discovery' | 'pushed_authorization' | 'authorization_code' | 'refresh' | 'userinfo' | 'revocation';

const UPSTREAM_FAILURE = 'The identity server could not be reached or answered unexpectedly';

// Codes of oauth4webapi/openid-client meaning "the response was well-formed but failed validation":
// an ID token or authorization response we must reject (OIDC Core §3.1.3.7), not an outage.
const REJECTED_RESPONSE = new Set([
  'OAUTH_INVALID_RESPONSE', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', 'OAUTH_KEY_SELECTION_FAILED', 'OAUTH_INVALID_REQUEST',
]);

// Transport-level failures: unreachable, timed out, not JSON, unexpected status.
const UNREACHABLE = new Set([
  'OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_PARSE_ERROR', 'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_MISSING_SERVER_METADATA', 'OAUTH_INVALID_SERVER_METADATA', 'OAUTH_HTTP_REQUEST_FORBIDDEN',
]);

function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; cause?: unknown };
  if (typeof e?.status === 'number') return e.status;
  if (e?.cause instanceof Response) return e.cause.status;
  return undefined;
}

function byStatus(status: number, step: OidcStep, oauthError: string | undefined, err: unknown): ThError {
  if (status >= 500) return new ThError('authorization_server_error', UPSTREAM_FAILURE, { cause: err });
  // RFC 6749 §5.2: invalid_grant on refresh means the refresh token is no longer valid.
  if (step === 'refresh' && oauthError === 'invalid_grant') {
    return new ThError('session_expired', 'The session has expired, please sign in again', { cause: err });
  }
  // RFC 6750 §3.1: UserInfo answers 401 invalid_token when the access token is no longer accepted.
  if (step === 'userinfo' && status === 401) return new ThError('token_expired', 'The access token was rejected', { cause: err });
  if (status >= 400) return new ThError('authorization_error', 'The identity server rejected the request', { cause: err });
  return new ThError('authorization_server_error', UPSTREAM_FAILURE, { cause: err });
}

/** The contract's error for a failure of `step`; ThError and FrontChannelError pass through. */
export function toOidcError(err: unknown, step: OidcStep): ThError | FrontChannelError {
  if (err instanceof ThError || err instanceof FrontChannelError) return err;
  if (err instanceof client.AuthorizationResponseError) return new FrontChannelError(err.error);
  if (err instanceof client.ResponseBodyError) return byStatus(err.status, step, err.error, err);
  if (err instanceof client.WWWAuthenticateChallengeError) {
    const error = err.cause[0]?.parameters.error;
    return byStatus(err.status, step, error, err);
  }
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
      const status = statusOf(err);
      if (status !== undefined && status < 500 && status >= 400) return byStatus(status, step, undefined, err);
    }
    if (UNREACHABLE.has(code)) return new ThError('authorization_server_error', UPSTREAM_FAILURE, { cause: err });
    if (REJECTED_RESPONSE.has(code)) {
      return step === 'discovery' || step === 'pushed_authorization'
        ? new ThError('authorization_server_error', UPSTREAM_FAILURE, { cause: err })
        : new ThError('invalid_request', 'The authorization response or ID token was rejected', { cause: err });
    }
  }
  // fetch() rejects with a TypeError when the connection fails (ECONNREFUSED, DNS, reset).
  if (err instanceof TypeError && !(typeof code === 'string' && code.startsWith('ERR_INVALID_ARG'))) {
    return new ThError('authorization_server_error', UPSTREAM_FAILURE, { cause: err });
  }
  if (err instanceof client.ClientError && (err.cause instanceof TypeError || err.cause instanceof DOMException)) {
    return new ThError('authorization_server_error', UPSTREAM_FAILURE, { cause: err });
  }
  return new ThError('server_error', 'The server could not complete the request', { cause: err });
}
