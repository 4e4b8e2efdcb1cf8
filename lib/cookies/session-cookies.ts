// The session lives in four encrypted cookies, each bound to its purpose and to one session id:
//   {p}-at   access token + its expiry and issue time (read by the proxy on every API call)
//   {p}-rt   refresh token               (read only to refresh)
//   {p}-id   ID token                    (claims, id_token_hint at logout)
//   {p}-csrf the session's CSRF token    (compared with the x-{p}-csrf header)
//   {p}-dpop the session's DPoP private key (OIDC_DPOP; read by the proxy to sign each proof)
// The session id inside each lets a mix of two users' cookies be detected and refused.
// A big session with a store (docs/contract.md §7 "Big tokens") keeps its tokens there: its csrf cookie
// carries the reference and the entry's own key, its at cookie only the token's expiry, and it has no
// rt or id cookie (lib/session/server-side-tokens.ts fills the tokens in).
import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { CookieCodec } from './codec';
import { CookieJar } from './cookie-jar';
import { clearChunked, readChunked, writeChunked } from './chunked-cookie';
import { OpenedCookieCache, type OpenedCookieCacheLimits } from './opened-cookie-cache';
import { nowMs, nowSeconds } from '../clock';

export type SessionCookieKind = 'at' | 'rt' | 'id' | 'csrf' | 'dpop';
export const SESSION_COOKIE_KINDS: readonly SessionCookieKind[] = ['at', 'rt', 'id', 'csrf', 'dpop'];

export interface SessionTokens {
  accessToken: string;
  /** Unix seconds; from `expires_in` at issue time. */
  accessTokenExpiresAt: number;
  /**
   * Unix seconds when the BFF received the token. With the expiry it gives the token's lifetime, which
   * caps the proxy's refresh margin at half of it; absent in cookies written before it was recorded.
   */
  accessTokenIssuedAt?: number;
  refreshToken?: string;
  idToken?: string;
  /** RFC 9449: the private JWK the tokens are bound to; it stays with the session across refreshes. */
  dpopKey?: string;
}

/**
 * Who the session belongs to at the identity server, from the validated ID token: what back-channel
 * logout (OIDC Back-Channel Logout 1.0 §2.4) names a session by. Absent in cookies sealed before it was recorded.
 */
export interface SessionPrincipal {
  /** The ID token's `sid`: the identity server's session (OIDC Front-Channel Logout 1.0 §3). */
  idpSid?: string;
  sub?: string;
  iss?: string;
}

/** Where a big session's tokens are kept in the store: the entry's reference and key (base64url). Never logged. */
export interface StoredTokensRef { r: string; k: string }

export interface Session extends SessionTokens, SessionPrincipal {
  sid: string;
  csrf: string;
  /** Absolute end of the session (SESSION_MAX_AGE_SECONDS after login), unix seconds. */
  expiresAt: number;
  /** When the session began (login), unix seconds: a subject-wide logout ends sessions older than its `iat`. */
  createdAt?: number;
  /**
   * Set when the tokens live in the store (docs/contract.md §7 "Big tokens"). As read from cookies the
   * token fields are then empty until lib/session/server-side-tokens.ts loads them.
   */
  stored?: StoredTokensRef;
}

/** Outcome of reading one cookie: absent, present but unusable, or its record. */
export type Opened<T> = { status: 'absent' } | { status: 'invalid' } | { status: 'ok'; value: T };

/**
 * s: session id, v: value, x: expiry of the value (at: token expiry; csrf: session end), i: at's issue time.
 * Only in the csrf cookie (opened on every agent and /api request, so the revocation check needs no other):
 * d: the identity server's sid, u: sub, n: iss, c: the session's creation time, t: `<r>.<k>` of the
 * store entry holding a big session's tokens.
 */
interface Record { s: string; v: string; x?: number; i?: number; d?: string; u?: string; n?: string; c?: number; t?: string }

export { nowSeconds }; // lib/clock.ts's, for the modules that read it from here

/** The principal and creation time recorded in a csrf cookie's record; only the fields it holds. */
export function principalOf(rec: Readonly<Record>): SessionPrincipal & { createdAt?: number } {
  const out: SessionPrincipal & { createdAt?: number } = {};
  if (typeof rec.d === 'string') out.idpSid = rec.d;
  if (typeof rec.u === 'string') out.sub = rec.u;
  if (typeof rec.n === 'string') out.iss = rec.n;
  if (typeof rec.c === 'number') out.createdAt = rec.c;
  return out;
}

/** The store reference a csrf cookie's record carries; null when it has one that is malformed. */
export function storedTokensRefOf(rec: Readonly<Record>): StoredTokensRef | undefined | null {
  if (rec.t === undefined) return undefined;
  const m = typeof rec.t === 'string' ? /^([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/.exec(rec.t) : null;
  return m ? { r: m[1]!, k: m[2]! } : null;
}

/**
 * `__Host-` needs Secure and Path=/ (RFC 6265bis §4.1.3.2); used whenever Secure is. An app under a
 * base path (contract §8) cannot have `__Host-`, and gets `__Secure-` (§4.1.3.1) instead.
 */
export function cookieBaseName(config: Pick<Config, 'cookiePrefix' | 'secureCookies' | 'app'>, kind: string): string {
  const secure = config.secureCookies ? (cookiePath(config) === '/' ? '__Host-' : '__Secure-') : '';
  return `${secure}${config.cookiePrefix}-${kind}`;
}

/** The Path attribute of every cookie of the app: its base path (`/` without APPS). */
export const cookiePath = (config: Pick<Config, 'app'>): string => config.app?.basePath ?? '/';

/**
 * Contract §8: with APPS the app id (and base path) is part of the associated data, so a cookie sealed
 * for one app never opens in another, even with the same COOKIE_KEYS and copied under its names.
 * Without APPS the value is exactly as before, so existing sessions stay valid.
 */
export function createCodec(config: Pick<Config, 'cookieKeys' | 'publicOrigin' | 'cookiePrefix' | 'app'>): CookieCodec {
  const app = config.app ? ` app=${config.app.id} ${config.app.basePath}` : '';
  return new CookieCodec(config.cookieKeys, `${config.publicOrigin} ${config.cookiePrefix}${app}`);
}

export interface SessionCookiesOptions {
  codec?: CookieCodec;
  /**
   * Remember opened `at` and `csrf` cookies (the two the proxy reads on every API call) by their exact
   * sealed value, within these limits per kind (lib/cookies/opened-cookie-cache.ts says why it is safe).
   * For a long-lived instance only; `rt` and `id` are read once per refresh and never cached.
   */
  cacheOpened?: OpenedCookieCacheLimits;
}

export class SessionCookies {
  readonly codec: CookieCodec;
  private readonly names: { [K in SessionCookieKind]: string };
  private readonly opened: { [K in SessionCookieKind]?: OpenedCookieCache<Readonly<Record>> } = {};

  constructor(private readonly config: Config, opts: SessionCookiesOptions = {}) {
    this.codec = opts.codec ?? createCodec(config);
    this.names = {
      at: cookieBaseName(config, 'at'), rt: cookieBaseName(config, 'rt'), id: cookieBaseName(config, 'id'),
      csrf: cookieBaseName(config, 'csrf'), dpop: cookieBaseName(config, 'dpop'),
    };
    if (opts.cacheOpened) {
      this.opened.at = new OpenedCookieCache(opts.cacheOpened);
      this.opened.csrf = new OpenedCookieCache(opts.cacheOpened);
      this.opened.dpop = new OpenedCookieCache(opts.cacheOpened);
    }
  }

  name(kind: SessionCookieKind): string {
    return this.names[kind];
  }

  /** Opens one cookie; `sid` (when given) must match, so cookies of two sessions never combine. */
  open(jar: CookieJar, kind: SessionCookieKind, sid?: string, nowSeconds = nowMs() / 1000): Opened<Readonly<Record>> {
    const raw = readChunked(jar, this.names[kind]);
    if (raw === undefined) return { status: 'absent' };
    if (raw === null || raw === '') return { status: 'invalid' };
    const rec = this.openRecord(kind, raw, nowSeconds);
    if (rec === null || (sid !== undefined && rec.s !== sid)) return { status: 'invalid' };
    return { status: 'ok', value: rec };
  }

  /** Decrypts and validates one sealed value, or finds it among those already opened. */
  private openRecord(kind: SessionCookieKind, sealed: string, nowSeconds: number): Readonly<Record> | null {
    const cache = this.opened[kind];
    const cached = cache?.get(sealed, nowSeconds);
    if (cached !== undefined) return cached;
    const opened = this.codec.openWithExpiry(kind, sealed, nowSeconds);
    if (opened === null) return null;
    let rec: Record;
    try { rec = JSON.parse(opened.payload) as Record; } catch { return null; }
    if (rec === null || typeof rec !== 'object' || typeof rec.s !== 'string' || typeof rec.v !== 'string') return null;
    // Shared by every request that sends the same cookie: nobody may change it.
    Object.freeze(rec);
    cache?.set(sealed, rec, opened.expiresAt);
    return rec;
  }

  /**
   * The whole session: `absent` when the browser holds no session cookie at all; `invalid` when any
   * cookie is tampered, expired, duplicated or from another session, or the essential ones are missing.
   */
  read(jar: CookieJar): Opened<Session> {
    if (SESSION_COOKIE_KINDS.every((k) => readChunked(jar, this.names[k]) === undefined)) return { status: 'absent' };
    const csrf = this.open(jar, 'csrf');
    if (csrf.status !== 'ok') return { status: 'invalid' };
    const sid = csrf.value.s;
    const at = this.open(jar, 'at', sid);
    const rt = this.open(jar, 'rt', sid);
    const id = this.open(jar, 'id', sid);
    const dpop = this.open(jar, 'dpop', sid);
    if ([at, rt, id, dpop].some((c) => c.status === 'invalid')) return { status: 'invalid' };
    if (at.status !== 'ok' && rt.status !== 'ok') return { status: 'invalid' };
    const stored = storedTokensRefOf(csrf.value);
    // A stored session has its tokens in the store only: an rt or id cookie beside it is a mix.
    if (stored === null || (stored && (at.status !== 'ok' || rt.status === 'ok' || id.status === 'ok'))) return { status: 'invalid' };
    const value: Session = {
      sid,
      csrf: csrf.value.v,
      expiresAt: csrf.value.x ?? 0,
      accessToken: at.status === 'ok' ? at.value.v : '',
      accessTokenExpiresAt: at.status === 'ok' ? (at.value.x ?? 0) : 0,
      ...(at.status === 'ok' && typeof at.value.i === 'number' ? { accessTokenIssuedAt: at.value.i } : {}),
      refreshToken: rt.status === 'ok' ? rt.value.v : undefined,
      idToken: id.status === 'ok' ? id.value.v : undefined,
      ...principalOf(csrf.value),
      ...(dpop.status === 'ok' ? { dpopKey: dpop.value.v } : {}),
      ...(stored ? { stored } : {}),
    };
    return { status: 'ok', value };
  }

  /** A new session after login: fresh id and CSRF token (OWASP CSRF cheat sheet: per-session token). */
  create(tokens: SessionTokens, now = nowSeconds(), principal: SessionPrincipal = {}): Session {
    return {
      ...tokens,
      ...principal,
      createdAt: now,
      sid: randomBytes(16).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: now + this.config.sessionMaxAgeSeconds,
    };
  }

  /**
   * Set-Cookie lines for the session; cookies live until the session's absolute end. A session with
   * `stored` set gets the reference instead of its tokens (lib/session/server-side-tokens.ts decides).
   */
  write(jar: CookieJar, session: Session, now = nowSeconds()): string[] {
    const maxAge = session.expiresAt - now;
    const secure = this.config.secureCookies;
    const { stored } = session;
    const put = (kind: SessionCookieKind, v: string | undefined, x?: number, i?: number, who: Partial<Record> = {}): string[] => {
      // A stored session's at cookie carries only the token's expiry and issue time.
      if (v === undefined || (v === '' && !(kind === 'at' && stored))) {
        return readChunked(jar, this.names[kind]) === undefined ? [] : clearChunked(jar, this.names[kind], secure, cookiePath(this.config));
      }
      const sealed = this.codec.seal(kind, JSON.stringify({ s: session.sid, v, x, i, ...who } satisfies Record), session.expiresAt);
      return writeChunked(jar, this.names[kind], sealed, secure, maxAge, cookiePath(this.config));
    };
    return [
      ...put('at', stored ? '' : session.accessToken, session.accessTokenExpiresAt, session.accessTokenIssuedAt),
      ...put('rt', stored ? undefined : session.refreshToken),
      ...put('id', stored ? undefined : session.idToken),
      ...put('csrf', session.csrf, session.expiresAt, undefined, {
        d: session.idpSid, u: session.sub, n: session.iss, c: session.createdAt, ...(stored ? { t: `${stored.r}.${stored.k}` } : {}),
      }),
      ...put('dpop', session.dpopKey),
    ];
  }

  /** Removal lines for every session cookie and chunk, with the exact name and path they were set with. */
  clear(jar: CookieJar): string[] {
    return SESSION_COOKIE_KINDS.flatMap((k) => (k === 'dpop' && readChunked(jar, this.names[k]) === undefined
      ? [] // only DPoP sessions have one: the others' removal lines stay as they were
      : clearChunked(jar, this.names[k], this.config.secureCookies, cookiePath(this.config))));
  }
}
