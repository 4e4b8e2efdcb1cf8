// The process's denylist: shared through the session store when SESSION_STORE_URL is set (every
// instance's mirror kept current by the store, docs/contract.md §7), else in-process (single-instance).
// A module-level singleton: one per process once lib/ loads once per process.
import { ConfigError, getConfig, type Config } from '../config';
import { createStoreDenylist } from '../store/denylist-redis';
import { getSessionStore } from '../store/redis-client';
import { StoreCrypto } from '../store/store-crypto';
import { InProcessDenylist } from './in-process-denylist';
import type { SessionDenylist } from './session-denylist';

let denylist: SessionDenylist | undefined;

export function getSessionDenylist(): SessionDenylist {
  return (denylist ??= createDefaultDenylist());
}

function createDefaultDenylist(): SessionDenylist {
  let config: Config;
  // A server has validated its configuration at start-up (lib/startup.ts stops on a ConfigError), so
  // this only happens in a unit test that hands its modules their own configuration: in-process.
  try { config = getConfig(); } catch (err) {
    if (err instanceof ConfigError) return new InProcessDenylist();
    throw err;
  }
  const store = getSessionStore(config);
  return store ? createStoreDenylist(store, new StoreCrypto(config)) : new InProcessDenylist();
}

/** Replaces the process's denylist (tests; a deployment's own implementation before any request). */
export function installSessionDenylist(replacement: SessionDenylist): void {
  denylist = replacement;
}
