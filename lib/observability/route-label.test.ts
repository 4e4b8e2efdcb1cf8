import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { agentEndpointName, proxyRouteLabel } from './route-label';

const { apiRoutes } = loadConfig({
  PUBLIC_ORIGIN: 'https://www.example.com', OIDC_ISSUER: 'https://login.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's',
  COOKIE_KEYS: 'a'.repeat(64), API_ROUTES: '/api=http://api:8080,/api/orders=http://orders:8080/v1',
});

describe('route labels (docs/contract.md §9: an endpoint name or a route prefix, never a raw path)', () => {
  it.each([
    ['/oauth-agent/login/start', 'login_start'], ['/oauth-agent/login/end', 'login_end'], ['/oauth-agent/session', 'session'],
    ['/oauth-agent/userInfo', 'user_info'], ['/oauth-agent/claims', 'claims'], ['/oauth-agent/refresh', 'refresh'],
    ['/oauth-agent/logout', 'logout'], ['/oauth-agent/backchannel-logout', 'backchannel_logout'], ['/shop/oauth-agent/session', 'session'],
    ['/oauth-agent/attacker-chosen-123', 'unknown'], ['/oauth-agent/session/extra', 'unknown'], ['/oauth-agent', 'unknown'],
  ])('agent %s → %s', (path, label) => {
    expect(agentEndpointName(path)).toBe(label);
  });

  it.each([
    ['/api/orders/42?token=x', '/api/orders'], ['/api/orders', '/api/orders'], ['/api/ordersX/1', '/api'], ['/api/anything/else', '/api'],
    ['/api', '/api'], ['/apix', 'none'], ['/other', 'none'], [undefined, 'none'],
  ])('proxy %s → %s', (target, label) => {
    expect(proxyRouteLabel(target, apiRoutes)).toBe(label);
  });
});
