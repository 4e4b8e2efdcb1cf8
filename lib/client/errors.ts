// The one error type the client library throws. `code` is the contract's error code (docs/contract.md §2,
// §3) so that apps branch on it, never on message text; a few client-side codes cover what happens
// before any request leaves the browser.

import type { FrontChannel401Code, ThErrorCode } from './error-codes';

/**
 * Codes the token handler returns (docs/contract.md §2 and §3): the server's own (the list in
 * ./error-codes, shared with the server) and the front-channel `error` values login/end passes through.
 */
export type ServerErrorCode = ThErrorCode | FrontChannel401Code;

/** Codes raised by the library itself, with status 0 (no HTTP response involved). */
export type ClientErrorCode = 'cross_origin_request' | 'network_error' | 'invalid_response';

export type TokenHandlerErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

export class TokenHandlerError extends Error {
  constructor(
    readonly code: TokenHandlerErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TokenHandlerError';
  }
}

/**
 * Turns a non-2xx response into a TokenHandlerError. Reads `{code, message}` (docs/contract.md §2); also
 * `error_code`/`detailed_error`, which Curity's agent returns, so the same SPA works against both.
 */
export async function readErrorResponse(response: Response): Promise<TokenHandlerError> {
  let body: Record<string, unknown> = {};
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try { body = (await response.json()) as Record<string, unknown>; } catch { /* not JSON after all */ }
  }
  const code = typeof body.code === 'string' ? body.code
    : typeof body.error_code === 'string' ? body.error_code
      : response.status >= 500 ? 'server_error' : 'invalid_response';
  const message = typeof body.message === 'string' ? body.message
    : typeof body.detailed_error === 'string' ? body.detailed_error
      : `The token handler answered ${response.status}`;
  return new TokenHandlerError(code, response.status, message);
}
