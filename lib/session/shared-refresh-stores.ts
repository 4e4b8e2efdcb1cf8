// The refresh coordinator and successor store that go through the shared session store, when
// SESSION_STORE_URL is set (docs/contract.md §6); undefined otherwise (per-process, as before).
import type { Config } from '../config';
import { BACK_CHANNEL_TIMEOUT_SECONDS } from '../oidc/oidc-configuration';
import { getSessionStore } from '../store/redis-client';
import { StoreCrypto } from '../store/store-crypto';
import type { RefreshCoordinator } from './refresh-coordinator';
import { StoreRefreshCoordinator } from './store-refresh-coordinator';
import { StoreSuccessorStore } from './store-successor-store';
import type { SuccessorStore } from './successor-store';

export function createSharedRefreshStores(config: Config): { coordinator: RefreshCoordinator; successors: SuccessorStore } | undefined {
  const store = getSessionStore(config);
  if (!store) return undefined;
  const crypto = new StoreCrypto(config);
  return {
    // The lock outlives the token request's own timeout by 5 s, so it never lapses mid-grant.
    coordinator: new StoreRefreshCoordinator(store, crypto, { lockTtlMs: (BACK_CHANNEL_TIMEOUT_SECONDS + 5) * 1000 }),
    successors: new StoreSuccessorStore(store, crypto),
  };
}
