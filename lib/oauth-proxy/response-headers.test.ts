// The one response filter both transports and WebSocket handshakes use (docs/contract.md §3 "Never returned").
import { describe, expect, it } from 'vitest';
import { isRelayableStatus, toBrowserHeaders } from './response-headers';

const ctx = {
  route: { prefix: '/api/orders', upstream: 'http://orders.internal:8080/v1' },
  upstreamUrl: new URL('http://orders.internal:8080/v1/items?x=1'),
  publicOrigin: 'https://www.example.com',
};

describe('isRelayableStatus', () => {
  it.each([[99, false], [100, true], [103, true], [200, true], [302, true], [599, true], [600, false], [999, false], [0, false]])(
    'status %i on a plain request → %s', (status, ok) => { expect(isRelayableStatus(status, false)).toBe(ok); });
  it('a 101 only when the request asked to upgrade', () => {
    expect(isRelayableStatus(101, false)).toBe(false);
    expect(isRelayableStatus(101, true)).toBe(true);
  });
});

describe('toBrowserHeaders', () => {
  it('drops Set-Cookie, hop-by-hop and headers naming the upstream; rewrites a Location under the base; adds nosniff and the refreshed cookies', () => {
    const out = toBrowserHeaders(Object.entries({
      'set-cookie': ['up=1'], connection: 'upgrade', upgrade: 'websocket', 'x-backend': 'orders.internal:8080',
      location: 'http://orders.internal:8080/v1/items/2', 'sec-websocket-accept': 'abc=', 'x-middleware-rewrite': 'http://orders.internal:8080/v1',
    }), ctx, ['__Host-th-at=new']);
    expect(out).toEqual({
      location: 'https://www.example.com/api/orders/items/2', 'sec-websocket-accept': 'abc=',
      'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'set-cookie': ['__Host-th-at=new'],
    });
  });
  it('drops a Location elsewhere on the upstream\'s origin (an internal address)', () => {
    expect(toBrowserHeaders([['location', 'http://orders.internal:8080/internal']], ctx).location).toBeUndefined();
  });
});
