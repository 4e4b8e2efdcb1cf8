import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FRONT_CHANNEL_401_CODES, SERVER_ERROR_CODES, type FrontChannel401Code } from './client/error-codes';
import type { ServerErrorCode } from './client/errors';
import { type ErrorCode, FrontChannelError, ThError, toErrorResponse } from './errors';

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

describe('one error-code list for server and client', () => {
  it('the client\'s ServerErrorCode is exactly the server\'s ErrorCode plus the front-channel 401 codes (checked by tsc)', () => {
    // Type-level: `npx tsc --noEmit` fails here when either side grows a code of its own again.
    expectTypeOf<ServerErrorCode>().toEqualTypeOf<ErrorCode | FrontChannel401Code>();
    expectTypeOf<Exclude<ServerErrorCode, FrontChannel401Code>>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<(typeof SERVER_ERROR_CODES)[number]>().toEqualTypeOf<ErrorCode>();
    expect(new Set(SERVER_ERROR_CODES).size).toBe(SERVER_ERROR_CODES.length);
  });

  it('docs/contract.md documents every server code with the status ThError answers', () => {
    const contract = readFileSync(new URL('../docs/contract.md', import.meta.url), 'utf8');
    const undocumented = SERVER_ERROR_CODES.filter((code) => {
      const status = new ThError(code, 'x').status;
      // "| 401 | `session_expired` |" in the agent's table or "502 `bad_gateway`" in the proxy's list.
      return !new RegExp(`\\b${status}\\s*\\|?\\s*\`${code}\``).test(contract);
    });
    expect(undocumented).toEqual([]);
  });

  it('a front-channel code of the shared list answers 401, any other front-channel value 400', () => {
    for (const code of FRONT_CHANNEL_401_CODES) expect([code, new FrontChannelError(code).status]).toEqual([code, 401]);
    expect(new FrontChannelError('access_denied').status).toBe(400);
    expect(new FrontChannelError('temporarily_unavailable').status).toBe(400);
  });
});
