// Makes the JWT access tokens of the local identity server usable at its UserInfo endpoint,
// the way Curity, Keycloak, Auth0 or Okta accept their own access tokens there.
//
// oidc-provider 9 refuses this on purpose, in two places:
//  1. JWT access tokens are never stored (models/formats/jwt.js returns no payload), so
//     `AccessToken.find(<jwt>)` finds nothing;
//  2. lib/actions/userinfo.js `validateAudience` rejects any access token that has an `aud`.
// We undo exactly those two things and nothing else:
//  1. when a JWT access token is minted (the documented `formats.customizers.jwt` hook) we store a
//     record of it under its `jti` in the provider's own adapter — the same record an opaque
//     token would have — so grant revocation, logout and expiry remove it like any other token;
//     `AccessToken.find(<jwt>)` then verifies the JWT (signature with the provider's own public
//     keys, `iss`, `typ`, `exp`) and loads that record by `jti`;
//  2. ONLY while serving the userinfo route, the loaded token's `aud` is cleared so that
//     `validateAudience` passes. Scope ("openid" required), session binding, grant/account
//     checks in userinfo stay exactly as oidc-provider implements them.
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';

type AnyToken = Record<string, unknown> & { jti?: string };
interface JwtParts { payload: Record<string, unknown> }

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * A groups-style claim that pads a JWT access token to about `bytes` (compact serialization), the way
 * directory-backed identity servers emit big tokens (e.g. every group of a user in an access token).
 */
function padWithGroups(payload: Record<string, unknown>, bytes: number): void {
  const groups: string[] = [];
  payload.groups = groups;
  // base64url makes the payload 4/3 as long; the header and signature add about 400 bytes (RS256/ES256).
  const target = Math.floor(((bytes - 400) * 3) / 4);
  for (let i = 0; Buffer.byteLength(JSON.stringify(payload)) < target; i += 1) groups.push(`cn=group-${String(i).padStart(5, '0')},ou=groups,dc=example,dc=com`);
}

export function createJwtAccessTokenSupport(opts: { padToBytes?: number } = {}) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let provider: any;
  const jwtJtis = new Set<string>();

  /** `formats.customizers.jwt`: runs just before oidc-provider signs a JWT access token. */
  async function customizer(_ctx: unknown, token: AnyToken, jwt: JwtParts): Promise<void> {
    const AccessToken = provider.AccessToken;
    const { jti, iat, exp } = jwt.payload as { jti: string; iat: number; exp: number };
    const record: Record<string, unknown> = {};
    for (const key of AccessToken.IN_PAYLOAD as string[]) {
      if (token[key] !== undefined) record[key] = token[key];
    }
    Object.assign(record, { jti, iat, exp, kind: 'AccessToken' });
    jwtJtis.add(jti);
    await AccessToken.adapter.upsert(jti, record, Math.max(1, exp - Math.floor(Date.now() / 1000)));
    if (opts.padToBytes) padWithGroups(jwt.payload, opts.padToBytes);
  }

  /** Call once the Provider exists. */
  function install(p: unknown, opts: { issuer: string; publicJwks: JSONWebKeySet; algorithms: string[]; clockTolerance: number }) {
    provider = p;
    const keys = createLocalJWKSet(opts.publicJwks);
    const AccessToken = provider.AccessToken;
    const originalFind = AccessToken.find.bind(AccessToken);
    const ProviderClass = provider.constructor;

    AccessToken.find = async (value: unknown, options?: unknown) => {
      if (typeof value !== 'string') return undefined;
      if (!JWT_SHAPE.test(value)) {
        // A JWT's jti is an id, not a bearer credential of its own.
        return jwtJtis.has(value) ? undefined : originalFind(value, options);
      }
      let jti: unknown;
      try {
        ({ payload: { jti } } = await jwtVerify(value, keys, {
          issuer: opts.issuer,
          typ: 'at+jwt',
          algorithms: opts.algorithms,
          clockTolerance: opts.clockTolerance,
        }));
      } catch {
        return undefined;
      }
      if (typeof jti !== 'string' || !jwtJtis.has(jti)) return undefined;
      const token = await originalFind(jti, options);
      // THE relaxation (see 2. above): only at the userinfo endpoint.
      if (token && ProviderClass.ctx?.oidc?.route === 'userinfo') token.aud = undefined;
      return token;
    };
  }

  return { customizer, install };
}
