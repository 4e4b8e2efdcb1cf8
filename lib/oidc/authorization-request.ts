// Step 1 of the authorization code flow (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) with PKCE (RFC 7636).
import * as client from 'openid-client';
import type { Config } from '../config';
import { badRequest } from '../errors';
import { dpopKeyThumbprint, generateDpopKey, type DpopKey } from './dpop';
import { getOidcConfiguration } from './oidc-configuration';
import { toOidcError } from './oidc-errors';
import { buildAuthorizationUrlFor } from './pushed-authorization';

/** The parameters an SPA may add (docs/contract.md §2); anything else could override state, PKCE or redirect_uri. */
export const ALLOWED_EXTRA_PARAMS = ['prompt', 'max_age', 'ui_locales', 'login_hint', 'acr_values', 'claims'] as const;
type ExtraParamKey = typeof ALLOWED_EXTRA_PARAMS[number];

/** What the login-transaction cookie keeps until the authorization response comes back. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** RFC 9207 / mix-up defence: the issuer this transaction was started with. */
  issuer: string;
  /** OIDC Core §3.1.2.1: when max_age was requested, auth_time must be checked. */
  maxAge?: number;
  /** RFC 9449 §10: the session's DPoP key, bound to the code by `dpop_jkt` (OIDC_DPOP=true). */
  dpopKey?: DpopKey;
}

/** Validates `extraParams` (`[{key, value}]`); a key off the allow-list is a 400, never silently dropped. */
export function parseExtraParams(input: unknown): Partial<Record<ExtraParamKey, string>> {
  if (input === undefined || input === null) return {};
  if (!Array.isArray(input) || input.length > ALLOWED_EXTRA_PARAMS.length) throw badRequest('extraParams must be a short array of {key, value}');
  const out: Partial<Record<ExtraParamKey, string>> = {};
  for (const item of input as unknown[]) {
    const { key, value } = (item ?? {}) as { key?: unknown; value?: unknown };
    if (typeof key !== 'string' || !(ALLOWED_EXTRA_PARAMS as readonly string[]).includes(key)) {
      throw badRequest('extraParams holds a parameter that is not allowed');
    }
    if (typeof value !== 'string' || value.length > 2048 || key in out) throw badRequest('extraParams holds an invalid value');
    if (key === 'max_age' && !/^\d{1,9}$/.test(value)) throw badRequest('max_age must be a whole number of seconds');
    out[key as ExtraParamKey] = value;
  }
  return out;
}

/** Builds the authorization request URL and the transaction that must come back with its response. */
export async function buildAuthorizationRequest(
  oidc: Config['oidc'], extraParams: Partial<Record<ExtraParamKey, string>>,
): Promise<{ url: string; transaction: LoginTransaction }> {
  let configuration: client.Configuration;
  try { configuration = await getOidcConfiguration(oidc); } catch (err) { throw toOidcError(err, 'discovery'); }
  // RFC 9700 §2.1.1 / §4.7.1: PKCE S256 plus state and nonce, fresh per transaction.
  const codeVerifier = client.randomPKCECodeVerifier();
  const transaction: LoginTransaction = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    codeVerifier,
    issuer: oidc.issuer,
    ...(extraParams.max_age !== undefined ? { maxAge: Number(extraParams.max_age) } : {}),
    ...(oidc.dpop ? { dpopKey: generateDpopKey() } : {}),
  };
  const parameters: Record<string, string> = {
    ...extraParams,
    response_type: 'code',
    redirect_uri: oidc.redirectUri,
    scope: oidc.scope,
    state: transaction.state,
    nonce: transaction.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    // RFC 9449 §10: the authorization code can only be redeemed with a proof from this key.
    ...(transaction.dpopKey ? { dpop_jkt: dpopKeyThumbprint(transaction.dpopKey) } : {}),
  };
  let url: URL;
  try { url = await buildAuthorizationUrlFor(configuration, parameters, oidc.par); } catch (err) { throw toOidcError(err, 'pushed_authorization'); }
  return { url: url.href, transaction };
}
