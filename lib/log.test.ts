// The scrubber is a last line of defence: secret-looking fields are dropped, the contract's error
// `code` is kept (README "Logs": request_rejected and login_failed carry it).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { log } from './log';

function written(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { lines.push(String(chunk)); return true; });
  log('warn', 'request_rejected', fields);
  return JSON.parse(lines.join('')) as Record<string, unknown>;
}

describe('log scrubber', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('keeps an error code under `code`, at any depth', () => {
    expect(written({ code: 'invalid_request', status: 400 })).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(written({ code: 'access_denied' }).code).toBe('access_denied');
    expect(written({ cause: { code: 'session_expired' } }).cause).toEqual({ code: 'session_expired' });
  });

  it('drops an authorization code under `code`, and every secret-looking field', () => {
    const out = written({
      code: 'SplxlOBeZQQYbYS6WxSbIA-7hGdPz3xQ', Code: 'x1', accessToken: 'a', refresh_token: 'r', cookie: 'c', clientSecret: 's',
      password: 'p', authorization: 'Bearer x', codeVerifier: 'v', csrf: 'c', idTokenHint: 'h', jwt: 'j', kept: 'yes',
    });
    expect(out).toMatchObject({ event: 'request_rejected', kept: 'yes' });
    for (const k of ['code', 'Code', 'accessToken', 'refresh_token', 'cookie', 'clientSecret', 'password', 'authorization', 'codeVerifier', 'csrf', 'idTokenHint', 'jwt']) {
      expect(out, k).not.toHaveProperty(k);
    }
  });
});
