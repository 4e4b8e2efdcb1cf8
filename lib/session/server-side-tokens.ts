// Server-side tokens for big sessions (docs/contract.md §7 "Big tokens"): with a store, a session whose
// cookies would exceed 8 KiB in all keeps its tokens in the store (lib/store/session-token-vault.ts,
// encrypted under a key only the browser's cookie holds) and its cookies carry the reference.
// Without a store, or while it is down, the tokens stay in (chunked) cookies: a big session
// degrades to the cookies it always had, never fails to start.
//
// Entries are immutable (a refresh writes a new one), so each instance keeps the ones it opened in
// memory: a stored session costs one store read per instance and token, not one per request.
import type { Config } from '../config';
import { CookieJar } from '../cookies/cookie-jar';
import { OpenedCookieCache } from '../cookies/opened-cookie-cache';
import { nowSeconds, type Session, type SessionCookies, type StoredTokensRef } from '../cookies/session-cookies';
import { describeCause, ThError } from '../errors';
import { log } from '../log';
import { getSessionStore, StoreUnavailableError } from '../store/redis-client';
import { StoreCrypto } from '../store/store-crypto';
import { MAX_COOKIE_BYTES_IN_ALL, SessionTokenVault } from '../store/session-token-vault';

/** What a stored session keeps in the store: the three tokens, nothing else. */
export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
}

// Up to 500 stored sessions' tokens per app and instance, at most 16 MB of them.
const OPENED_LIMITS = { maxEntries: 500, maxChars: 16 * 1024 * 1024 };

interface AppVault { vault: SessionTokenVault; opened: OpenedCookieCache<StoredTokens> }

// Process-wide, per app configuration (module-level singletons: lib/ loads once per process).
const vaults = new WeakMap<Config, AppVault | null>();

function vaultFor(config: Config): AppVault | undefined {
  let entry = vaults.get(config);
  if (entry === undefined) {
    const store = getSessionStore(config);
    entry = store ? { vault: new SessionTokenVault(store, new StoreCrypto(config)), opened: new OpenedCookieCache(OPENED_LIMITS) } : null;
    vaults.set(config, entry);
  }
  return entry ?? undefined;
}

const cacheKey = (ref: StoredTokensRef) => `${ref.r}.${ref.k}`;

/** The bytes of the Cookie header the browser would send for these Set-Cookie lines (RFC 6265bis §5.7.4). */
export function cookieHeaderBytes(setCookieLines: readonly string[]): number {
  const pairs = setCookieLines.filter((l) => !/;\s*max-age=0\b/i.test(l)).map((l) => l.split(';', 1)[0]!);
  return pairs.reduce((n, p) => n + Buffer.byteLength(p, 'utf8'), 0) + Math.max(0, pairs.length - 1) * 2;
}

/**
 * Decides where a new or refreshed session's tokens go: the session as given (tokens in its cookies)
 * when they fit in MAX_COOKIE_BYTES_IN_ALL or there is no store, else the same session with `stored`
 * set after its tokens were written to the store. `previous` is the entry the session's cookies
 * referenced before a refresh: it is kept for REFRESH_GRACE_SECONDS only, for late requests that
 * still send the old cookies (docs/contract.md §6). The tokens stay on the returned object (for this
 * request); SessionCookies.write() puts only the reference into the cookies.
 */
export async function placeSessionTokens(
  session: Session, cookies: SessionCookies, config: Config, previous?: StoredTokensRef, now = nowSeconds(),
): Promise<Session> {
  const { stored: _ignored, ...inCookies } = session;
  const app = vaultFor(config);
  if (!app) return inCookies;
  let placed: Session = inCookies;
  if (cookieHeaderBytes(cookies.write(new CookieJar(null), inCookies, now)) > MAX_COOKIE_BYTES_IN_ALL) {
    const tokens: StoredTokens = { accessToken: session.accessToken, refreshToken: session.refreshToken, idToken: session.idToken };
    try {
      const stored = await app.vault.put(JSON.stringify(tokens), session.expiresAt - now);
      app.opened.set(cacheKey(stored), tokens, session.expiresAt);
      placed = { ...inCookies, stored };
    } catch (err) {
      // The store is down: the session keeps its tokens in chunked cookies, as without a store.
      if (!(err instanceof StoreUnavailableError)) throw err;
      log('warn', 'stored_tokens_unavailable', { sid: session.sid, op: 'put', ...describeCause(err) });
    }
  }
  if (previous && cacheKey(previous) !== (placed.stored && cacheKey(placed.stored))) {
    await app.vault.retire(previous, config.refreshGraceSeconds).catch((err: unknown) => {
      log('warn', 'stored_tokens_unavailable', { sid: session.sid, op: 'retire', ...describeCause(err) });
    });
  }
  return placed;
}

/**
 * A stored session's tokens, from this instance's memory or the store. Throws ThError
 * 'session_expired' (with `clearing`'s Set-Cookie lines) when the entry is gone or does not open,
 * and 'server_error' without touching the cookies while the store is unreachable: the session
 * works again once the store is back.
 */
export async function loadStoredTokens(
  ref: StoredTokensRef, config: Config, session: { sid: string; expiresAt: number }, clearing: () => string[],
): Promise<StoredTokens> {
  const { sid } = session;
  const app = vaultFor(config);
  const ended = () => new ThError('session_expired', 'The session has ended, please sign in again', {
    headers: clearing().map((line) => ['set-cookie', line] as const),
  });
  // Cookies that name a stored entry on a deployment without a store: nothing to read them with.
  if (!app) throw ended();
  const now = nowSeconds();
  const cached = app.opened.get(cacheKey(ref), now);
  if (cached) return cached;
  let payload: string | undefined;
  try {
    payload = await app.vault.get(ref);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    log('warn', 'stored_tokens_unavailable', { sid, op: 'get', ...describeCause(err) });
    throw new ThError('server_error', 'The session store is unavailable, please try again', { cause: err });
  }
  const tokens = payload === undefined ? undefined : parseStoredTokens(payload);
  if (!tokens) {
    log('info', 'stored_tokens_missing', { sid });
    throw ended();
  }
  app.opened.set(cacheKey(ref), tokens, session.expiresAt);
  return tokens;
}

/** The session with its stored tokens filled in; a session that keeps them in cookies as it is. */
export async function withStoredTokens(session: Session, config: Config, clearing: () => string[]): Promise<Session> {
  if (!session.stored) return session;
  const tokens = await loadStoredTokens(session.stored, config, session, clearing);
  return { ...session, ...tokens };
}

/** Logout: the stored tokens are removed at once (best effort; the denylist refuses the cookies anyway). */
export async function removeStoredTokens(ref: StoredTokensRef | undefined, config: Config, sid: string): Promise<void> {
  const app = vaultFor(config);
  if (!ref || !app) return;
  try { await app.vault.remove(ref); } catch (err) {
    log('warn', 'stored_tokens_unavailable', { sid, op: 'remove', ...describeCause(err) });
  }
}

function parseStoredTokens(payload: string): StoredTokens | undefined {
  try {
    const t = JSON.parse(payload) as Partial<StoredTokens>;
    if (typeof t.accessToken !== 'string') return undefined;
    return {
      accessToken: t.accessToken,
      ...(typeof t.refreshToken === 'string' ? { refreshToken: t.refreshToken } : {}),
      ...(typeof t.idToken === 'string' ? { idToken: t.idToken } : {}),
    };
  } catch { return undefined; }
}
