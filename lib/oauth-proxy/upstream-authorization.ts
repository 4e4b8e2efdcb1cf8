// The credential an upstream receives (docs/contract.md §3, §10): one Bearer, or for a session whose tokens
// are DPoP-bound `Authorization: DPoP <token>` plus a fresh proof for exactly this request.
import { createDpopProof, dpopNonceFor, isDpopNonceChallenge, rememberDpopNonce } from '../oidc/dpop';
import type { ForwardPlan } from './plan-forward';

export interface UpstreamCredential {
  /** The access token, and the key it is bound to when the identity server issued a DPoP token. */
  accessToken: string;
  dpopKey?: string;
}

/** The header(s) to set upstream, lower-case: `authorization`, and `dpop` when the token is bound. */
export function upstreamAuthorization(session: UpstreamCredential, method: string, url: URL): { authorization: string; dpop?: string } {
  // RFC 6750 §2.1: exactly one Bearer credential.
  if (session.dpopKey === undefined) return { authorization: `Bearer ${session.accessToken}` };
  // RFC 9449 §7.1: the DPoP scheme, and a proof with htm, htu (no query or fragment), iat, jti, ath
  // and the upstream's latest nonce (§9), signed for this one request.
  return {
    authorization: `DPoP ${session.accessToken}`,
    dpop: createDpopProof(session.dpopKey, {
      method, url, accessToken: session.accessToken, nonce: dpopNonceFor(url.origin),
    }),
  };
}

/**
 * RFC 9449 §9: remembers an upstream's DPoP-Nonce (sent on any response) and says whether this
 * response is a nonce challenge that one retry with a new proof may answer.
 */
export function noteUpstreamDpopNonce(
  url: URL, status: number, wwwAuthenticate: string | string[] | null | undefined, dpopNonce: string | string[] | null | undefined,
): boolean {
  if (typeof dpopNonce === 'string') rememberDpopNonce(url.origin, dpopNonce);
  return isDpopNonceChallenge(status, wwwAuthenticate, dpopNonce);
}

/** `headers` with the credential (and DPoP proof) for `session`'s token, made afresh for `plan`'s request. */
export function withUpstreamAuthorization(
  headers: Record<string, string>, session: { accessToken: string; dpopKey?: string }, plan: Pick<ForwardPlan, 'method' | 'upstreamUrl'>,
): Record<string, string> {
  const out = { ...headers };
  delete out.dpop;
  return Object.assign(out, upstreamAuthorization(session, plan.method, plan.upstreamUrl));
}

/**
 * RFC 9449 §9: after an upstream's 401 `use_dpop_nonce` challenge (its nonce now remembered), the plan
 * with a new proof carrying that nonce; undefined when the response is no such challenge or the
 * session's token is not DPoP-bound. The transports retry once, and only requests without a body.
 */
export function planWithDpopNonce(
  plan: ForwardPlan, status: number, wwwAuthenticate: string | string[] | null | undefined, dpopNonce: string | string[] | null | undefined,
): ForwardPlan | undefined {
  const challenged = noteUpstreamDpopNonce(plan.upstreamUrl, status, wwwAuthenticate, dpopNonce);
  if (!challenged || plan.session.dpopKey === undefined) return undefined;
  return { ...plan, headers: withUpstreamAuthorization(plan.headers, plan.session, plan) };
}
