// OIDC_CLIENT_PRIVATE_KEY for private_key_jwt (RFC 7523 §2.2, OIDC Core §9): read once at start-up
// with node:crypto, so a key that cannot sign stops the server naming the variable instead of
// failing every login/start. PEM (PKCS#8, PKCS#1, SEC1) or a private JWK; RSA, EC P-256/384/521
// and Ed25519, each with or without `alg`.
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface ClientPrivateKey {
  /** The key as PKCS#8 PEM, the one form WebCrypto imports. */
  readonly pkcs8: string;
  /** The JWS algorithm of client assertions (RFC 7518 §3.1 / RFC 8037 §3.1). */
  readonly alg: string;
  /** The JWK's `kid`, sent in the assertion's header so the identity server picks the right key. */
  readonly kid?: string;
}

/** Why the value cannot be used; its text never quotes the key. */
export class ClientKeyError extends Error {}

// RFC 7518 §3.1 / RFC 8037 §3.1 (and RFC 9864's fully-specified Ed25519): what each key type can sign.
const ALGORITHMS: Record<string, readonly string[]> = {
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  'ec P-256': ['ES256'],
  'ec P-384': ['ES384'],
  'ec P-521': ['ES512'],
  ed25519: ['EdDSA', 'Ed25519'],
};
const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

function openKey(raw: string): { key: KeyObject; alg?: string; kid?: string } {
  if (raw.trim().startsWith('{')) {
    let jwk: JsonWebKey & { alg?: unknown; kid?: unknown };
    try { jwk = JSON.parse(raw) as typeof jwk; } catch { throw new ClientKeyError('is neither a PEM private key nor valid JSON'); }
    if (typeof jwk.kty !== 'string' || typeof jwk.d !== 'string') throw new ClientKeyError('must be a private JWK (with "kty" and "d")');
    if (jwk.alg !== undefined && typeof jwk.alg !== 'string') throw new ClientKeyError('has an "alg" that is not a string');
    let key: KeyObject;
    try { key = createPrivateKey({ key: jwk, format: 'jwk' }); } catch { throw new ClientKeyError(`is a ${jwk.kty} JWK that cannot be imported as a private key`); }
    return { key, alg: jwk.alg as string | undefined, kid: typeof jwk.kid === 'string' ? jwk.kid : undefined };
  }
  const pem = raw.replace(/\\n/g, '\n');
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) throw new ClientKeyError('must be a PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1) or a private JWK');
  try { return { key: createPrivateKey(pem) }; } catch { throw new ClientKeyError('is a PEM block that cannot be read as a private key'); }
}

/** The signing key and algorithm of OIDC_CLIENT_PRIVATE_KEY; throws ClientKeyError saying why not. */
export function parseClientPrivateKey(raw: string): ClientPrivateKey {
  const { key, alg, kid } = openKey(raw);
  const type = key.asymmetricKeyType === 'ec'
    ? `ec ${CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}`
    : key.asymmetricKeyType ?? 'unknown';
  const allowed = ALGORITHMS[type];
  if (!allowed) throw new ClientKeyError(`is a ${type} key; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key`);
  // RFC 7518 §3.3: RSA keys of 2048 bits or more.
  if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new ClientKeyError('is an RSA key shorter than 2048 bits');
  if (alg !== undefined && !allowed.includes(alg)) throw new ClientKeyError(`has "alg": "${alg.slice(0, 16)}", which a ${type} key cannot sign with (one of ${allowed.join(', ')})`);
  return Object.freeze({
    pkcs8: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    alg: alg ?? allowed[0]!,
    ...(kid !== undefined ? { kid } : {}),
  });
}
