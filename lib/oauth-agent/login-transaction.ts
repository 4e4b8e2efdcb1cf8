// The login-transaction cookie: state, nonce, PKCE verifier and issuer between login/start and
// login/end. One cookie per transaction, named from a hash of its state, so two tabs starting
// logins at once do not overwrite each other (RFC 9700 §4.7.1: state bound to the user agent).
import { createHash } from 'node:crypto';
import type { Config } from '../config';
import type { CookieCodec } from '../cookies/codec';
import { CookieJar, serializeCookie, serializeCookieRemoval } from '../cookies/cookie-jar';
import { cookieBaseName, cookiePath, nowSeconds } from '../cookies/session-cookies';
import type { LoginTransaction } from '../oidc/authorization-request';

/** Contract §2: the transaction expires after 10 minutes. */
export const LOGIN_TRANSACTION_SECONDS = 600;
const PURPOSE = 'login';

/** `{p}-login-<tag>`, tag = 16 base64url chars of SHA-256(state): the cookie name never reveals the state. */
export function loginCookieName(config: Pick<Config, 'cookiePrefix' | 'secureCookies' | 'app'>, state: string): string {
  const tag = createHash('sha256').update(state, 'utf8').digest('base64url').slice(0, 16);
  return cookieBaseName(config, `login-${tag}`);
}

export function writeLoginTransaction(config: Config, codec: CookieCodec, transaction: LoginTransaction, now = nowSeconds()): string {
  const sealed = codec.seal(PURPOSE, JSON.stringify(transaction), now + LOGIN_TRANSACTION_SECONDS);
  return serializeCookie(loginCookieName(config, transaction.state), sealed, { secure: config.secureCookies, maxAgeSeconds: LOGIN_TRANSACTION_SECONDS, path: cookiePath(config) });
}

/** The pending transaction for `state`, or undefined when absent, expired, forged or of another state. */
export function readLoginTransaction(config: Config, codec: CookieCodec, jar: CookieJar, state: string): LoginTransaction | undefined {
  const raw = jar.get(loginCookieName(config, state));
  if (!raw) return undefined;
  const plain = codec.open(PURPOSE, raw);
  if (plain === null) return undefined;
  try {
    const t = JSON.parse(plain) as LoginTransaction;
    if (t.state !== state || typeof t.nonce !== 'string' || typeof t.codeVerifier !== 'string' || typeof t.issuer !== 'string') return undefined;
    return t;
  } catch {
    return undefined;
  }
}

/** Removal of the transaction cookie for `state`: used once, on success and on failure alike. */
export function clearLoginTransaction(config: Config, state: string): string {
  return serializeCookieRemoval(loginCookieName(config, state), config.secureCookies, cookiePath(config));
}
