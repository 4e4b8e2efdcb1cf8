import { describe, expect, it } from 'vitest';
import { FrontChannelError, ThError, toErrorResponse } from './errors';

const CLEAR: Array<[string, string]> = [['set-cookie', 'tx=; Max-Age=0; Path=/']];

describe('toErrorResponse with extra headers', () => {
  it('adds them to a ThError\'s own headers, keeping status, code and no-store', async () => {
    const res = toErrorResponse(new ThError('session_expired', 'expired', { headers: [['set-cookie', 'at=; Max-Age=0']] }), {}, CLEAR);
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie()).toEqual(['at=; Max-Age=0', 'tx=; Max-Age=0; Path=/']);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ code: 'session_expired', message: 'expired' });
  });

  it('adds them to a front-channel error and to the 500 of an unexpected error', async () => {
    const front = toErrorResponse(new FrontChannelError('login_required'), {}, CLEAR);
    expect([front.status, front.headers.getSetCookie()]).toEqual([401, [CLEAR[0]![1]]]);
    const unexpected = toErrorResponse(new Error('boom with a secret'), {}, CLEAR);
    expect(unexpected.status).toBe(500);
    expect(unexpected.headers.getSetCookie()).toEqual([CLEAR[0]![1]]);
    expect(await unexpected.json()).toEqual({ code: 'server_error', message: 'The server could not complete the request' });
  });

  it('without extra headers, answers exactly as before', () => {
    expect(toErrorResponse(new ThError('not_found', 'x')).headers.getSetCookie()).toEqual([]);
  });
});
