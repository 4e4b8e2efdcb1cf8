// Refreshes a session's tokens, race-free within a process: the entry point shared by
// POST /oauth-agent/refresh and both OAuth Proxy transports (README "Refresh model").
import { createHash } from 'node:crypto';
import { getConfig, type Config } from '../config';
import { asThError, ThError } from '../errors';
import { log } from '../log';
import type { Session } from '../cookies/session-cookies';
import { refreshAccessToken } from '../oidc/token-requests';
import { countRefresh } from '../observability/metrics';
import { InMemoryRefreshCoordinator, type RefreshCoordinator } from './refresh-coordinator';
import { InMemorySuccessorStore, type SuccessorStore, type SuccessorTokens } from './successor-store';

export interface RefreshDependencies {
  config?: Pick<Config, 'oidc' | 'refreshGraceSeconds'>;
  coordinator?: RefreshCoordinator;
  successors?: SuccessorStore;
  /** The refresh-token grant itself; defaults to lib/oidc's. Injected by unit tests. */
  grant?: (refreshToken: string, previousIdToken: string | undefined) => Promise<SuccessorTokens>;
}

// Process-wide, on globalThis: Next's route bundles and dist/server.mjs each load their own lib/.
const COORDINATOR_SLOT = Symbol.for('next-token-handler.refresh-coordinator');
const SUCCESSORS_SLOT = Symbol.for('next-token-handler.refresh-successors');
type Slots = { [COORDINATOR_SLOT]?: RefreshCoordinator; [SUCCESSORS_SLOT]?: SuccessorStore };

export function defaultRefreshCoordinator(): RefreshCoordinator {
  return ((globalThis as Slots)[COORDINATOR_SLOT] ??= new InMemoryRefreshCoordinator());
}

export function defaultSuccessorStore(): SuccessorStore {
  return ((globalThis as Slots)[SUCCESSORS_SLOT] ??= new InMemorySuccessorStore());
}

/** Replaces the process-wide coordinator/store, e.g. with shared (Redis) implementations at start-up. */
export function installRefreshStores(stores: { coordinator?: RefreshCoordinator; successors?: SuccessorStore }): void {
  if (stores.coordinator) (globalThis as Slots)[COORDINATOR_SLOT] = stores.coordinator;
  if (stores.successors) (globalThis as Slots)[SUCCESSORS_SLOT] = stores.successors;
}

/** SHA-256 of the refresh token: a key that identifies the session without being a usable token. */
export const refreshTokenKey = (refreshToken: string) => createHash('sha256').update(refreshToken, 'utf8').digest('base64url');

/**
 * The session with fresh tokens (same sid, CSRF token and absolute end). At most one grant per
 * refresh token is in flight per process; callers arriving with a token rotated less than
 * REFRESH_GRACE_SECONDS ago get its successors. Throws ThError 'session_expired' when the session
 * has no refresh token or the identity server answers invalid_grant (the caller clears the cookies),
 * 'authorization_server_error' / 'authorization_error' for other identity server failures.
 */
export async function refreshSessionTokens(session: Session, deps: RefreshDependencies = {}): Promise<Session> {
  const refreshToken = session.refreshToken;
  if (!refreshToken) throw new ThError('session_expired', 'The session cannot be refreshed, please sign in again');
  const config = deps.config ?? getConfig();
  const coordinator = deps.coordinator ?? defaultRefreshCoordinator();
  const successors = deps.successors ?? defaultSuccessorStore();
  const grant = deps.grant ?? ((rt: string, id: string | undefined) => refreshAccessToken(config.oidc, rt, id));
  const key = refreshTokenKey(refreshToken);

  const remembered = await successors.get(key);
  if (remembered) {
    log('debug', 'token_refresh_reused', { sid: session.sid });
    countRefresh('successor');
    return merge(session, remembered);
  }
  let ranHere = false;
  const shared = coordinator.run(key, async () => {
    ranHere = true;
    // Another caller (or instance, with a shared store) may have finished while we waited.
    const late = await successors.get(key);
    if (late) { countRefresh('successor'); return late; }
    try {
      const fresh = await grant(refreshToken, session.idToken);
      await successors.set(key, fresh, config.refreshGraceSeconds);
      log('info', 'token_refreshed', { sid: session.sid, rotated: fresh.refreshToken !== undefined && fresh.refreshToken !== refreshToken });
      countRefresh('success');
      return fresh;
    } catch (err) {
      if (err instanceof ThError && err.code === 'session_expired') log('info', 'session_expired', { sid: session.sid });
      countRefresh(err instanceof ThError && err.code === 'session_expired' ? 'invalid_grant' : 'error');
      throw err;
    }
  });
  // The grant may have run in another bundle's copy of lib/ (the coordinator is process-wide): its
  // ThError is re-made as ours, so callers' `instanceof ThError` checks hold.
  const tokens = await shared.catch((err: unknown) => { throw asThError(err) ?? err; });
  if (!ranHere) countRefresh('coalesced');
  return merge(session, tokens);
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
