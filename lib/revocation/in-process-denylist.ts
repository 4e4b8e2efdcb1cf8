// The denylist without a store: this process's memory only. Documented as single-instance (README
// "Back-channel logout and revocation"): a logout reaching one instance ends the session there only.
import { log } from '../log';
import { DenylistMirror, DEFAULT_MIRROR_LIMITS, type MirrorLimits } from './denylist-mirror';
import type { RevocableSession, Revocation, SessionDenylist } from './session-denylist';
import { nowSeconds } from '../clock';


export class InProcessDenylist implements SessionDenylist {
  readonly mirror: DenylistMirror;
  private readonly logoutTokens = new Map<string, number>();
  private readonly listeners = new Set<(r: Revocation) => void>();
  private warnedFull = false;

  constructor(private readonly limits: MirrorLimits = DEFAULT_MIRROR_LIMITS) {
    this.mirror = new DenylistMirror(limits);
  }

  isRevoked(session: RevocableSession, now = nowSeconds()): boolean {
    return this.mirror.isRevoked(session, now);
  }

  async revoke(revocation: Revocation, until: number): Promise<void> {
    this.applyRevocation(revocation, until);
  }

  /** Applies a revocation to the mirror and tells the listeners (also used by store-backed denylists). */
  applyRevocation(revocation: Revocation, until: number, now = nowSeconds()): void {
    this.mirror.apply(revocation, until, now);
    if (this.mirror.overflowed && !this.warnedFull) {
      this.warnedFull = true;
      log('warn', 'denylist_full', { maxEntries: this.limits.maxEntries });
    }
    for (const listener of this.listeners) {
      try { listener(revocation); } catch { /* one listener's failure must not stop the others */ }
    }
  }

  async claimLogoutToken(iss: string, jti: string, until: number): Promise<boolean> {
    const now = nowSeconds();
    const key = `${iss}\u0000${jti}`;
    const seen = this.logoutTokens.get(key);
    if (seen !== undefined && seen > now) return false;
    this.logoutTokens.delete(key);
    this.logoutTokens.set(key, until);
    // Bounded like the mirror: expired first, then the oldest (a replay after that only repeats an
    // idempotent revocation).
    if (this.logoutTokens.size > this.limits.maxEntries) {
      for (const [k, u] of this.logoutTokens) if (u <= now) this.logoutTokens.delete(k);
      while (this.logoutTokens.size > this.limits.maxEntries) this.logoutTokens.delete(this.logoutTokens.keys().next().value as string);
    }
    return true;
  }

  onRevoked(listener: (r: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }
}
