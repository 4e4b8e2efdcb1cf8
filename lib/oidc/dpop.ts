// DPoP (RFC 9449): the session's key pair and the proofs made with it. Framework-free and
// synchronous: node:crypto signs a proof in a few tens of microseconds, so the proxy's policy
// (planForward, synchronous on both transports) can add a fresh proof per upstream request without
// changing how the transports call it. jose stays the library for JOSE work that may be async.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { nowSeconds } from '../clock';

/** RFC 9449 §4.2 / §5: ES256 proofs (P-256), the algorithm every DPoP server must support in practice. */
export const DPOP_ALG = 'ES256';

/** A private EC P-256 JWK as JSON: what the session's `dpop` cookie seals. */
export type DpopKey = string;

interface PreparedKey {
  privateKey: KeyObject;
  /** base64url of the proof's protected header (typ, alg and the public JWK). */
  header: string;
  thumbprint: string;
}

interface EcJwk { kty: string; crv: string; x: string; y: string; d?: string }

/** A fresh key pair per session (RFC 9449 §2: the client's key, never shared between sessions). */
export function generateDpopKey(): DpopKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as EcJwk;
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d });
}

// Opened keys of recently active sessions, keyed by the sealed JWK's text (a secret in memory, like the
// opened access-token cookies): parsing the key and encoding the header once, not per request.
const PREPARED_MAX = 2_000;
const prepared = new Map<string, PreparedKey>();

function prepare(key: DpopKey): PreparedKey {
  const hit = prepared.get(key);
  if (hit) return hit;
  const jwk = JSON.parse(key) as EcJwk;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') throw new TypeError('not a P-256 private JWK');
  const publicJwk = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  const entry: PreparedKey = {
    privateKey: createPrivateKey({ key: { ...publicJwk, d: jwk.d }, format: 'jwk' }),
    header: b64json({ typ: 'dpop+jwt', alg: DPOP_ALG, jwk: publicJwk }),
    // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
    thumbprint: createHash('sha256').update(JSON.stringify(publicJwk)).digest('base64url'),
  };
  if (prepared.size >= PREPARED_MAX) prepared.delete(prepared.keys().next().value as string);
  prepared.set(key, entry);
  return entry;
}

/** RFC 9449 §10: the JWK SHA-256 thumbprint sent as `dpop_jkt` and found in the token's `cnf.jkt`. */
export function dpopKeyThumbprint(key: DpopKey): string {
  return prepare(key).thumbprint;
}

/** The key as a private JWK (public members included), e.g. to import it into WebCrypto. */
export function dpopPrivateJwk(key: DpopKey): EcJwk {
  return JSON.parse(key) as EcJwk;
}

export interface ProofClaims {
  /** RFC 9449 §4.2 htm: the request's method. */
  method: string;
  /** htu: the target URI without query and fragment. */
  url: URL;
  /** ath: base64url(SHA-256(access token)) when the proof accompanies an access token (§4.2). */
  accessToken?: string;
  /** The server's latest DPoP-Nonce (§8, §9). */
  nonce?: string;
}

/** RFC 9449 §4.2: a DPoP proof JWT, fresh (new `jti`, current `iat`) on every call. */
export function createDpopProof(key: DpopKey, claims: ProofClaims, now = nowSeconds()): string {
  const { privateKey, header } = prepare(key);
  const payload: Record<string, unknown> = {
    htm: claims.method.toUpperCase(),
    htu: `${claims.url.origin}${claims.url.pathname}`,
    iat: now,
    jti: randomBytes(16).toString('base64url'),
  };
  if (claims.accessToken !== undefined) payload.ath = createHash('sha256').update(claims.accessToken, 'ascii').digest('base64url');
  if (claims.nonce !== undefined) payload.nonce = claims.nonce;
  const input = `${header}.${b64json(payload)}`;
  // RFC 7518 §3.4: ES256 signatures are R || S (IEEE P1363), not DER.
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

// RFC 9449 §8.2 / §9: the latest nonce each server handed out, per origin (bounded; origins are few).
const NONCES_MAX = 1_000;
const nonces = new Map<string, string>();

export function rememberDpopNonce(origin: string, nonce: string | null | undefined): void {
  // §8.1: a nonce is an opaque string of NQCHAR (%x21 / %x23-5B / %x5D-7E).
  if (!nonce || nonce.length > 1024 || !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(nonce)) return;
  if (nonces.get(origin) === nonce) return;
  nonces.delete(origin);
  if (nonces.size >= NONCES_MAX) nonces.delete(nonces.keys().next().value as string);
  nonces.set(origin, nonce);
}

export function dpopNonceFor(origin: string): string | undefined {
  return nonces.get(origin);
}

/**
 * RFC 9449 §9: a resource server that wants a nonce answers 401 with
 * `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a `DPoP-Nonce` header.
 */
export function isDpopNonceChallenge(status: number, wwwAuthenticate: string | string[] | null | undefined, dpopNonce: string | string[] | null | undefined): boolean {
  if (status !== 401 || !wwwAuthenticate || !dpopNonce || Array.isArray(dpopNonce)) return false;
  const value = Array.isArray(wwwAuthenticate) ? wwwAuthenticate.join(', ') : wwwAuthenticate;
  return /\bDPoP\b/i.test(value) && /\berror\s*=\s*"?use_dpop_nonce"?/i.test(value);
}
