// Refreshes a session's tokens, race-free within a process: the entry point shared by
// POST /oauth-agent/refresh and both OAuth Proxy transports (README "Refresh model").
import { createHash } from 'node:crypto';
import { getConfig, type Config } from '../config';
import { ThError } from '../errors';
import { log } from '../log';
import type { Session } from '../cookies/session-cookies';
import { refreshAccessToken } from '../oidc/token-requests';
import { InMemoryRefreshCoordinator, type RefreshCoordinator } from './refresh-coordinator';
import { InMemorySuccessorStore, type SuccessorStore, type SuccessorTokens } from './successor-store';

export interface RefreshDependencies {
  config?: Pick<Config, 'oidc' | 'refreshGraceSeconds' | 'app'>;
  coordinator?: RefreshCoordinator;
  successors?: SuccessorStore;
  /** The refresh-token grant itself; defaults to lib/oidc's. Injected by unit tests. */
  grant?: (refreshToken: string, previousIdToken: string | undefined) => Promise<SuccessorTokens>;
}

// Process-wide: module-level singletons, shared by the agent and both proxy transports because
// lib/ loads once per process (README "Project layout").
let coordinator: RefreshCoordinator | undefined;
let successors: SuccessorStore | undefined;

export function defaultRefreshCoordinator(): RefreshCoordinator {
  return (coordinator ??= new InMemoryRefreshCoordinator());
}

export function defaultSuccessorStore(): SuccessorStore {
  return (successors ??= new InMemorySuccessorStore());
}

/** Replaces the process-wide coordinator/store, e.g. with shared (Redis) implementations at start-up. */
export function installRefreshStores(stores: { coordinator?: RefreshCoordinator; successors?: SuccessorStore }): void {
  if (stores.coordinator) coordinator = stores.coordinator;
  if (stores.successors) successors = stores.successors;
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
  // Contract §8: coordination and successors are per app (a key of one app never answers another's).
  const key = config.app ? `${config.app.id}:${refreshTokenKey(refreshToken)}` : refreshTokenKey(refreshToken);

  const remembered = await successors.get(key);
  if (remembered) {
    log('debug', 'token_refresh_reused', { sid: session.sid });
    return merge(session, remembered);
  }
  const shared = coordinator.run(key, async () => {
    // Another caller (or instance, with a shared store) may have finished while we waited.
    const late = await successors.get(key);
    if (late) return late;
    try {
      const fresh = await grant(refreshToken, session.idToken);
      await successors.set(key, fresh, config.refreshGraceSeconds);
      log('info', 'token_refreshed', { sid: session.sid, rotated: fresh.refreshToken !== undefined && fresh.refreshToken !== refreshToken });
      return fresh;
    } catch (err) {
      if (err instanceof ThError && err.code === 'session_expired') log('info', 'session_expired', { sid: session.sid });
      throw err;
    }
  });
  const tokens = await shared;
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
