// The sample API as a DPoP resource server (RFC 9449 §7): a DPoP-bound access token (cnf.jkt) is
// accepted only with the DPoP scheme and a valid proof for this very request, signed by the key
// the token is bound to. Optionally demands a server nonce (§9).
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import type { VerifiedToken } from './sample-api-verify';

/** What the API answers when the token or proof is refused. */
export interface DpopRefusal { status: 401; headers: Record<string, string>; body: { error: string; error_description: string } }

export interface DpopVerifierOptions {
  /** The API's own base URL (scheme, host, port): the origin of every `htu` it accepts. */
  baseUrl: () => string;
  /** Demand a nonce (RFC 9449 §9); the current one is announced in `DPoP-Nonce`. */
  requireNonce?: boolean;
}

const IAT_WINDOW_SECONDS = 60;

export function createDpopVerifier(opts: DpopVerifierOptions) {
  // §11.1: proofs are one-time; jti remembered for the iat window.
  const seenJti = new Map<string, number>();
  let nonce = randomBytes(16).toString('base64url');

  const refuse = (error: string, description: string, extra: Record<string, string> = {}): DpopRefusal => ({
    status: 401,
    headers: { 'www-authenticate': `DPoP error="${error}", algs="ES256 EdDSA"`, 'cache-control': 'no-store', ...extra },
    body: { error, error_description: description },
  });

  function forget(now: number) {
    for (const [jti, at] of seenJti) if (at < now - 2 * IAT_WINDOW_SECONDS) seenJti.delete(jti); else break;
  }

  /** undefined when the request may proceed; the refusal otherwise. */
  async function check(req: IncomingMessage, verified: VerifiedToken): Promise<DpopRefusal | undefined> {
    const cnf = verified.payload.cnf as { jkt?: unknown } | undefined;
    const jkt = typeof cnf?.jkt === 'string' ? cnf.jkt : undefined;
    const proofs = req.headers.dpop === undefined ? [] : [req.headers.dpop].flat();
    if (jkt === undefined) {
      // §7.1: the DPoP scheme is for DPoP-bound tokens only.
      return verified.scheme === 'DPoP' ? refuse('invalid_token', 'the token is not DPoP-bound') : undefined;
    }
    // §7.1: a bound token presented as a bare Bearer token is refused.
    if (verified.scheme !== 'DPoP') return refuse('invalid_token', 'a DPoP-bound token needs the DPoP scheme');
    // §4.3 check 1: exactly one DPoP header.
    if (proofs.length !== 1 || proofs[0]!.includes(',')) return refuse('invalid_dpop_proof', 'exactly one DPoP proof is required');
    const proof = proofs[0]!;
    let header: ReturnType<typeof decodeProtectedHeader>;
    let payload: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(proof);
      const jwk = header.jwk as JWK | undefined;
      if (header.typ !== 'dpop+jwt' || !jwk || jwk.d !== undefined || !['ES256', 'EdDSA'].includes(String(header.alg))) {
        return refuse('invalid_dpop_proof', 'bad proof header');
      }
      ({ payload } = await jwtVerify(proof, await importJWK(jwk, header.alg), { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA'] }));
      // §6.1: the proof's key is the one the token is bound to.
      if (await calculateJwkThumbprint(jwk, 'sha256') !== jkt) return refuse('invalid_token', 'the proof key is not the token\'s key');
    } catch {
      return refuse('invalid_dpop_proof', 'the proof does not verify');
    }
    // §4.3 checks 8-9: htm and htu (without query and fragment) match this request.
    if (payload.htm !== req.method) return refuse('invalid_dpop_proof', 'htm mismatch');
    const target = new URL(req.url ?? '/', opts.baseUrl());
    if (payload.htu !== `${target.origin}${target.pathname}`) return refuse('invalid_dpop_proof', 'htu mismatch');
    // §4.3 check 12: ath is the hash of the presented access token.
    if (payload.ath !== createHash('sha256').update(verified.token).digest('base64url')) return refuse('invalid_dpop_proof', 'ath mismatch');
    const now = Math.floor(Date.now() / 1000);
    // §4.3 check 11: iat within an acceptable window.
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > IAT_WINDOW_SECONDS) return refuse('invalid_dpop_proof', 'iat is not fresh');
    if (opts.requireNonce && payload.nonce !== nonce) {
      return refuse('use_dpop_nonce', 'a nonce is required', { 'dpop-nonce': nonce });
    }
    // §11.1: a proof is used once.
    if (typeof payload.jti !== 'string' || seenJti.has(payload.jti)) return refuse('invalid_dpop_proof', 'jti replayed');
    forget(now);
    seenJti.set(payload.jti, now);
    return undefined;
  }

  return {
    check,
    /** The nonce to announce on responses (when nonces are demanded). */
    currentNonce: () => (opts.requireNonce ? nonce : undefined),
    /** A new nonce: proofs with the old one are challenged again (§9). */
    rotateNonce: () => { nonce = randomBytes(16).toString('base64url'); },
  };
}
