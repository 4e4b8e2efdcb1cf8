// The process's denylist: in-process until a shared one (lib/store) is installed at start-up.
// A module-level singleton: one per process once lib/ loads once per process (issue 13).
import { InProcessDenylist } from './in-process-denylist';
import type { SessionDenylist } from './session-denylist';

let denylist: SessionDenylist | undefined;

export function getSessionDenylist(): SessionDenylist {
  return (denylist ??= new InProcessDenylist());
}

/** Replaces the process's denylist, e.g. with a store-backed one at start-up (before any request). */
export function installSessionDenylist(replacement: SessionDenylist): void {
  denylist = replacement;
}
