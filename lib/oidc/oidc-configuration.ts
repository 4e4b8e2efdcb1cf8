// Discovery of the identity server (OpenID Connect Discovery 1.0), cached per process and
// re-fetched after a failure, so a restarted or rotated identity server is picked up again.
import * as client from 'openid-client';
import type { Config } from '../config';
import { ThError } from '../errors';
import { identityServerFetch } from '../observability/identity-server-fetch';
import { createClientAuthentication } from './client-authentication';
import { fetchRememberingDpopNonces } from './dpop-handle';

/** Every back-channel call is bounded (seconds): a hanging identity server must not hang the BFF. */
export const BACK_CHANNEL_TIMEOUT_SECONDS = 10;

// Process-wide: a module-level singleton (lib/ loads once per process, README "Project layout").
// One entry per client (several with APPS, contract §8), so apps do not evict each other's metadata.
const cached = new Map<string, Promise<client.Configuration>>();

/** Test seam: the fetch every back-channel call goes through (openid-client's customFetch); unset, the global fetch. */
let backChannelFetch: client.CustomFetch | undefined;

/** Routes lib/oidc's back-channel calls through `fetchImpl` (undefined: the global fetch again) and forgets the cache. */
export function useBackChannelFetch(fetchImpl: client.CustomFetch | undefined): void {
  backChannelFetch = fetchImpl;
  forgetOidcConfiguration();
}

async function discover(oidc: Config['oidc']): Promise<client.Configuration> {
  const insecure = new URL(oidc.issuer).protocol === 'http:';
  const configuration = await client.discovery(
    // No client metadata: the client authentication below is the only use openid-client has for a secret.
    new URL(oidc.issuer), oidc.clientId, undefined, await createClientAuthentication(oidc),
    {
      timeout: BACK_CHANNEL_TIMEOUT_SECONDS,
      // Client spans for every identity-server call when tracing is on (docs/contract.md §9); the test seam's fetch when set.
      [client.customFetch]: backChannelFetch ?? identityServerFetch,
      execute: [
        // OIDC Core §3.1.3.7 step 6 (docs/security.md "signature via JWKS"): openid-client skips the ID token's
        // signature on token-endpoint responses unless asked; without it a forged or corrupted token passes.
        client.enableNonRepudiationChecks,
        // RFC 9700 §2.6: plain http only when the configured issuer itself is http (local development).
        ...(insecure ? [client.allowInsecureRequests] : []),
      ],
    },
  );
  // OIDC Discovery §4.3 / RFC 8414 §3.3: the metadata issuer must be exactly the configured one
  // (openid-client compares normalised URLs; the ID token `iss` is compared as a string).
  if (configuration.serverMetadata().issuer !== oidc.issuer) {
    throw new ThError('authorization_server_error', 'The identity server\'s metadata does not match the configured issuer');
  }
  // RFC 9449 §8: the identity server's DPoP-Nonce is remembered for the next proof sent to it.
  if (oidc.dpop) configuration[client.customFetch] = fetchRememberingDpopNonces();
  return configuration;
}

/** The discovered configuration; a failed discovery is not cached, so the next call retries. */
export function getOidcConfiguration(oidc: Config['oidc']): Promise<client.Configuration> {
  const key = `${oidc.issuer} ${oidc.clientId} ${oidc.tokenAuthMethod} ${oidc.dpop}`;
  const hit = cached.get(key);
  if (hit) return hit;
  const promise = discover(oidc);
  cached.set(key, promise);
  promise.catch(() => { if (cached.get(key) === promise) cached.delete(key); });
  return promise;
}

/** Drops the cached metadata (after the identity server failed), so the next call rediscovers. */
export function forgetOidcConfiguration(): void {
  cached.clear();
}
