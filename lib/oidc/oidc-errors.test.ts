import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { FrontChannelError, ThError } from '../errors';
import { toOidcError } from './oidc-errors';

const responseBodyError = (status: number, error: string) => new client.ResponseBodyError('x', {
  cause: { error }, response: new Response(null, { status }),
} as never);
const clientError = (code: string, cause?: unknown) => Object.assign(new client.ClientError('x', { cause }), { code });

describe('toOidcError', () => {
  it('maps invalid_grant on refresh to session_expired, elsewhere to authorization_error', () => {
    expect(toOidcError(responseBodyError(400, 'invalid_grant'), 'refresh').code).toBe('session_expired');
    expect(toOidcError(responseBodyError(400, 'invalid_grant'), 'authorization_code').code).toBe('authorization_error');
    expect(toOidcError(responseBodyError(401, 'invalid_client'), 'refresh').code).toBe('authorization_error');
  });

  it('maps identity server 5xx, timeouts, connection failures and malformed responses to 502', () => {
    for (const err of [
      responseBodyError(503, 'temporarily_unavailable'),
      clientError('OAUTH_TIMEOUT'),
      clientError('OAUTH_RESPONSE_IS_NOT_JSON'),
      new TypeError('fetch failed'),
      clientError('OAUTH_RESPONSE_IS_NOT_CONFORM', new Response(null, { status: 500 })),
    ]) {
      const mapped = toOidcError(err, 'refresh');
      expect(mapped.code).toBe('authorization_server_error');
      expect(mapped.status).toBe(502);
    }
  });

  it('maps a UserInfo 401 to token_expired', () => {
    expect(toOidcError(clientError('OAUTH_RESPONSE_IS_NOT_CONFORM', new Response(null, { status: 401 })), 'userinfo').code).toBe('token_expired');
    expect(toOidcError(responseBodyError(401, 'invalid_token'), 'userinfo').code).toBe('token_expired');
  });

  it('maps a rejected ID token or authorization response to invalid_request', () => {
    for (const code of ['OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', 'OAUTH_INVALID_RESPONSE', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED']) {
      expect(toOidcError(clientError(code), 'authorization_code').code).toBe('invalid_request');
    }
  });

  it('passes a front-channel error on by code, and ThError through', () => {
    const front = toOidcError(new client.AuthorizationResponseError('x', { cause: new URLSearchParams({ error: 'login_required', error_description: 'secret' }) }), 'authorization_code');
    expect(front).toBeInstanceOf(FrontChannelError);
    expect(front.code).toBe('login_required');
    expect(front.status).toBe(401);
    const own = new ThError('invalid_request', 'x');
    expect(toOidcError(own, 'refresh')).toBe(own);
  });

  it('never reuses a foreign message, and unknown errors become server_error', () => {
    const mapped = toOidcError(new Error('token eyJhbGciOi leaked'), 'refresh');
    expect(mapped.code).toBe('server_error');
    expect(mapped.message).not.toContain('eyJ');
  });
});
