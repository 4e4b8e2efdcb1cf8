import { describe, expect, it } from 'vitest';
import { ThError } from '../errors';
import { meetsPushedAuthorizationPolicy, usesPushedAuthorization } from './pushed-authorization';

const withPar = { pushed_authorization_request_endpoint: 'https://idp.example/par' };
const withoutPar = {};

describe('OIDC_PAR policy', () => {
  it('auto pushes exactly when discovery advertises the endpoint; never does not push', () => {
    expect(usesPushedAuthorization(withPar, 'auto')).toBe(true);
    expect(usesPushedAuthorization(withoutPar, 'auto')).toBe(false);
    expect(usesPushedAuthorization({ pushed_authorization_request_endpoint: '' }, 'auto')).toBe(false);
    expect(usesPushedAuthorization(withPar, 'never')).toBe(false);
    expect(usesPushedAuthorization(withPar, 'always')).toBe(true);
  });

  it('always without an endpoint is a 502 authorization_server_error and fails readiness', () => {
    let err: unknown;
    try { usesPushedAuthorization(withoutPar, 'always'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ThError);
    expect((err as ThError).code).toBe('authorization_server_error');
    expect((err as ThError).status).toBe(502);
    expect(meetsPushedAuthorizationPolicy(withoutPar, 'always')).toBe(false);
    expect(meetsPushedAuthorizationPolicy(withPar, 'always')).toBe(true);
    expect(meetsPushedAuthorizationPolicy(withoutPar, 'auto')).toBe(true);
    expect(meetsPushedAuthorizationPolicy(withoutPar, 'never')).toBe(true);
  });
});
