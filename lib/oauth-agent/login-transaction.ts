// The login-transaction cookie: state, nonce, PKCE verifier and issuer between login/start and
// login/end. One cookie per transaction, named from a hash of its state, so two tabs starting
// logins at once do not overwrite each other (RFC 9700 §4.7.1: state bound to the user agent).
import { createHash } from 'node:crypto';
import type { Config } from '../config';
import type { CookieCodec } from '../cookies/codec';
import { CookieJar, serializeCookie, serializeCookieRemoval } from '../cookies/cookie-jar';
import { nowSeconds } from '../clock';
import { cookieBaseName, cookiePath } from '../cookies/session-cookies';
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
  return readLoginTransactionWithExpiry(config, codec, jar, state)?.transaction;
}

/** As readLoginTransaction, with the cookie's sealed expiry (unix seconds). */
export function readLoginTransactionWithExpiry(config: Config, codec: CookieCodec, jar: CookieJar, state: string): { transaction: LoginTransaction; expiresAt: number } | undefined {
  const raw = jar.get(loginCookieName(config, state));
  if (!raw) return undefined;
  const opened = codec.openWithExpiry(PURPOSE, raw);
  if (opened === null) return undefined;
  try {
    const t = JSON.parse(opened.payload) as LoginTransaction;
    if (t.state !== state || typeof t.nonce !== 'string' || typeof t.codeVerifier !== 'string' || typeof t.issuer !== 'string') return undefined;
    return { transaction: t, expiresAt: opened.expiresAt };
  } catch {
    return undefined;
  }
}

/**
 * At most this many pending logins per browser. Each transaction cookie is ~350 bytes for 10
 * minutes; without a bound, abandoned login/starts pile up until every request's Cookie header is
 * over the server's header limit and the whole site answers 431 (RFC 6265bis §5.7 lets a browser
 * keep ~50 cookies of 4 KB per site). Three covers a retry in two tabs at once.
 */
export const MAX_PENDING_LOGINS = 3;

/**
 * Removal lines that make room for one more transaction: every login cookie that cannot be read
 * (expired, forged, duplicated), then the oldest readable ones, until at most MAX_PENDING_LOGINS - 1
 * remain. Age is the sealed expiry, which the browser cannot change.
 */
export function pruneLoginTransactions(config: Config, codec: CookieCodec, jar: CookieJar, now = nowSeconds()): string[] {
  const prefix = cookieBaseName(config, 'login-');
  const pending: Array<{ name: string; expiresAt: number }> = [];
  for (const name of jar.names()) {
    if (!name.startsWith(prefix)) continue;
    const raw = jar.get(name);
    pending.push({ name, expiresAt: (raw && codec.openWithExpiry(PURPOSE, raw, now)?.expiresAt) || 0 });
  }
  pending.sort((a, b) => a.expiresAt - b.expiresAt);
  const excess = pending.length - (MAX_PENDING_LOGINS - 1);
  return pending.slice(0, Math.max(0, excess)).map(({ name }) => serializeCookieRemoval(name, config.secureCookies));
}

/** Removal of the transaction cookie for `state`: used once, on success and on failure alike. */
export function clearLoginTransaction(config: Config, state: string): string {
  return serializeCookieRemoval(loginCookieName(config, state), config.secureCookies, cookiePath(config));
}
