// Pushed authorization requests (RFC 9126), chosen by OIDC_PAR: `auto` pushes whenever discovery
// advertises the endpoint, `always` refuses to start a login without it, `never` keeps the classic URL.
import * as client from 'openid-client';
import type { ParMode } from '../config';
import { ThError } from '../errors';

interface ParMetadata { pushed_authorization_request_endpoint?: unknown; require_pushed_authorization_requests?: unknown }

const hasParEndpoint = (metadata: ParMetadata) =>
  typeof metadata.pushed_authorization_request_endpoint === 'string' && metadata.pushed_authorization_request_endpoint !== '';

/**
 * For readiness: false when OIDC_PAR=always and the identity server advertises no PAR endpoint
 * (RFC 9126 §5), i.e. no login could start. Pure, so /readyz can call it on the metadata it fetched.
 */
export function meetsPushedAuthorizationPolicy(metadata: ParMetadata, mode: ParMode): boolean {
  return mode !== 'always' || hasParEndpoint(metadata);
}

/** Whether this login pushes its request; throws 502 authorization_server_error for `always` without PAR. */
export function usesPushedAuthorization(metadata: ParMetadata, mode: ParMode): boolean {
  if (mode === 'never') return false;
  if (hasParEndpoint(metadata)) return true;
  if (mode === 'always') {
    throw new ThError('authorization_server_error', 'The identity server offers no pushed authorization request endpoint (OIDC_PAR=always)');
  }
  return false;
}

/**
 * The URL the browser is sent to. With PAR, the parameters go to the PAR endpoint over the back channel
 * (client-authenticated) and the URL carries only `client_id` and `request_uri` (RFC 9126 §4).
 */
export async function buildAuthorizationUrlFor(
  configuration: client.Configuration, parameters: Record<string, string>, mode: ParMode,
): Promise<URL> {
  if (!usesPushedAuthorization(configuration.serverMetadata() as ParMetadata, mode)) {
    return client.buildAuthorizationUrl(configuration, parameters);
  }
  return client.buildAuthorizationUrlWithPAR(configuration, parameters);
}
