// Refreshes a session's tokens, race-free within a process and, with SESSION_STORE_URL, across
// instances: the entry point shared by POST /oauth-agent/refresh and both OAuth Proxy transports
// (README "Refresh model", docs/contract.md §6).
import { createHash } from 'node:crypto';
import { getConfig, type Config } from '../config';
import { ThError } from '../errors';
import { log } from '../log';
import type { Session } from '../cookies/session-cookies';
import { refreshAccessToken } from '../oidc/token-requests';
import { countRefresh } from '../observability/metrics';
import { InMemoryRefreshCoordinator, type RefreshCoordinator } from './refresh-coordinator';
import { InMemorySuccessorStore, type SuccessorStore, type SuccessorTokens } from './successor-store';
import { createSharedRefreshStores } from './shared-refresh-stores';
import { nowMs } from '../clock';

export type RefreshConfig = Pick<Config, 'oidc' | 'refreshGraceSeconds' | 'refreshMarginSeconds' | 'app'>;

export interface RefreshDependencies {
  config?: RefreshConfig;
  coordinator?: RefreshCoordinator;
  successors?: SuccessorStore;
  /** The refresh-token grant itself; defaults to lib/oidc's. Injected by unit tests. */
  grant?: (refreshToken: string, previousIdToken: string | undefined) => Promise<SuccessorTokens>;
  /** Unix seconds; injected by unit tests. */
  now?: () => number;
}

// Process-wide: module-level singletons, shared by the agent and both proxy transports because
// lib/ loads once per process (README "Project layout").
let coordinator: RefreshCoordinator | undefined;
let successors: SuccessorStore | undefined;

/** Per process, or shared through the session store when SESSION_STORE_URL is set (docs/contract.md §6). */
function installDefaults(): void {
  if (coordinator && successors) return;
  const shared = createSharedRefreshStores(getConfig());
  coordinator ??= shared?.coordinator ?? new InMemoryRefreshCoordinator();
  successors ??= shared?.successors ?? new InMemorySuccessorStore();
}

export function defaultRefreshCoordinator(): RefreshCoordinator {
  installDefaults();
  return coordinator!;
}

export function defaultSuccessorStore(): SuccessorStore {
  installDefaults();
  return successors!;
}

/** Replaces the process-wide coordinator/store (tests, or other shared implementations). */
export function installRefreshStores(stores: { coordinator?: RefreshCoordinator; successors?: SuccessorStore }): void {
  if (stores.coordinator) coordinator = stores.coordinator;
  if (stores.successors) successors = stores.successors;
}

/** SHA-256 of the refresh token: a key that identifies the session without being a usable token. */
export const refreshTokenKey = (refreshToken: string) => createHash('sha256').update(refreshToken, 'utf8').digest('base64url');

// A chain longer than this within one grace window means something loops; stop following it.
const MAX_GENERATIONS = 16;
// A tombstone only has to outlive the requests already in flight with the rejected token.
const TOMBSTONE_SECONDS = 30;

const sessionExpired = () => new ThError('session_expired', 'The session cannot be refreshed, please sign in again');

/**
 * Contract §3: a token is due when it has expired or expires within REFRESH_MARGIN_SECONDS (capped
 * at half its lifetime when its issue time is known), the proxy's own rule (plan-forward.ts).
 */
function isDue(tokens: SuccessorTokens, marginSeconds: number, now: number): boolean {
  const lifetime = tokens.accessTokenIssuedAt === undefined ? undefined : Math.max(0, tokens.accessTokenExpiresAt - tokens.accessTokenIssuedAt);
  const margin = lifetime === undefined ? marginSeconds : Math.min(marginSeconds, lifetime / 2);
  return tokens.accessTokenExpiresAt - now <= margin;
}

type Outcome = { kind: 'fresh'; tokens: SuccessorTokens } | { kind: 'moved' };

/**
 * The session with fresh tokens (same sid, CSRF token and absolute end). At most one grant per
 * refresh token is in flight (per process, or across instances with a store); a caller arriving with
 * a token rotated less than REFRESH_GRACE_SECONDS ago follows the chain of successors to the newest
 * tokens, and refreshes those when they are due in turn (a used refresh token is never presented).
 * Throws ThError 'session_expired' when the session has no refresh token or the identity server
 * answers invalid_grant (the caller clears the cookies), 'authorization_server_error' /
 * 'authorization_error' for other identity server failures.
 */
export async function refreshSessionTokens(session: Session, deps: RefreshDependencies = {}): Promise<Session> {
  if (!session.refreshToken) throw sessionExpired();
  const config = deps.config ?? getConfig();
  const coordinator = deps.coordinator ?? defaultRefreshCoordinator();
  const successors = deps.successors ?? defaultSuccessorStore();
  // RFC 9449 §5: the refresh is proven with the session's own DPoP key (absent for Bearer sessions).
  const grant = deps.grant ?? ((rt: string, id: string | undefined) => refreshAccessToken(config.oidc, rt, id, undefined, session.dpopKey));
  const now = deps.now ?? (() => nowMs() / 1000);
  // Contract §8: coordination and successors, in memory and in the shared store, are per app (a key
  // of one app never answers another's).
  const keyOf = (rt: string) => (config.app ? `${config.app.id}:${refreshTokenKey(rt)}` : refreshTokenKey(rt));

  let current = session;
  let followed = false;
  for (let generation = 0; generation < MAX_GENERATIONS; generation += 1) {
    const refreshToken = current.refreshToken!;
    const key = keyOf(refreshToken);
    const entry = await successors.get(key);
    if (entry === 'rejected') throw sessionExpired();
    if (entry) {
      // A rotated token leads on to its successor's successor, never back to a used one.
      current = merge(current, entry);
      followed = true;
      continue;
    }
    // The newest successor is served only while it is not due itself; otherwise its
    // (unused) refresh token is redeemed below.
    if (followed && !isDue(current, config.refreshMarginSeconds, now())) {
      log('debug', 'token_refresh_reused', { sid: session.sid });
      countRefresh('successor');
      return current;
    }
    const previousIdToken = current.idToken;
    let ranHere = false;
    const shared = coordinator.run<Outcome>(key, async () => {
      ranHere = true;
      // Another caller (or instance, with a shared store) may have rotated it while we waited.
      const late = await successors.get(key);
      if (late === 'rejected') throw sessionExpired();
      if (late) return { kind: 'moved' };
      try {
        const fresh = await grant(refreshToken, previousIdToken);
        const rotated = fresh.refreshToken !== undefined && fresh.refreshToken !== refreshToken;
        // Only a rotation creates a successor entry. A token that stays valid needs none:
        // presenting it again is no reuse, and a stored copy would serve an ever older access token.
        if (rotated) await successors.set(key, fresh, config.refreshGraceSeconds);
        log('info', 'token_refreshed', { sid: session.sid, rotated });
        countRefresh('success');
        return { kind: 'fresh', tokens: fresh };
      } catch (err) {
        if (err instanceof ThError && err.code === 'session_expired') {
          log('info', 'session_expired', { sid: session.sid });
          // Waiters (here or on other instances) must not present the rejected token again.
          await successors.set(key, 'rejected', Math.min(config.refreshGraceSeconds, TOMBSTONE_SECONDS));
        }
        countRefresh(err instanceof ThError && err.code === 'session_expired' ? 'invalid_grant' : 'error');
        throw err;
      }
    });
    const outcome = await shared;
    if (outcome.kind === 'fresh') {
      if (!ranHere) countRefresh('coalesced');
      return merge(current, outcome.tokens);
    }
    // 'moved': the token was rotated meanwhile; the next turn follows the chain.
  }
  throw new ThError('authorization_server_error', 'The session could not be refreshed, please try again');
}

/** Tokens the identity server did not reissue are kept (RFC 6749 §6: the refresh token may stay). */
function merge(session: Session, tokens: SuccessorTokens): Session {
  return {
    ...session,
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    // The old token's issue time never describes the new one: unknown stays unknown (margin uncapped).
    accessTokenIssuedAt: tokens.accessTokenIssuedAt,
    refreshToken: tokens.refreshToken ?? session.refreshToken,
    idToken: tokens.idToken ?? session.idToken,
  };
}
