// The in-memory copy of the denylist that every request checks: three Maps with an expiry per entry,
// bounded in size. The in-process denylist is just this; a store-backed one keeps it current from
// the store (every instance's mirror applies every revocation it hears of).
import type { RevocableSession, Revocation } from './session-denylist';

export interface MirrorLimits {
  /** Entries of all kinds together; beyond it the entry that was added first is dropped. */
  maxEntries: number;
}

// ~200 bytes per entry: 100,000 ended sessions within SESSION_MAX_AGE_SECONDS is ~20 MB at most.
export const DEFAULT_MIRROR_LIMITS: MirrorLimits = { maxEntries: 100_000 };

interface SubjectEntry { before: number; until: number }

export class DenylistMirror {
  private readonly sessions = new Map<string, number>();
  private readonly idpSessions = new Map<string, number>();
  private readonly subjects = new Map<string, SubjectEntry>();
  /** Whether the bound ever dropped an entry (logged once by the owner). */
  overflowed = false;

  constructor(private readonly limits: MirrorLimits = DEFAULT_MIRROR_LIMITS) {}

  get size(): number {
    return this.sessions.size + this.idpSessions.size + this.subjects.size;
  }

  isRevoked(s: RevocableSession, now: number): boolean {
    // The common case, every request: nothing has ended, or nothing of this session.
    if (this.size === 0) return false;
    if (live(this.sessions, s.sid, now)) return true;
    if (s.iss === undefined) return false;
    if (s.idpSid !== undefined && live(this.idpSessions, pair(s.iss, s.idpSid), now)) return true;
    if (s.sub !== undefined && s.createdAt !== undefined) {
      const key = pair(s.iss, s.sub);
      const entry = this.subjects.get(key);
      if (entry !== undefined) {
        if (entry.until <= now) this.subjects.delete(key);
        // `iat` has one-second resolution: a session begun in the token's own second is ended too (fail closed).
        else if (s.createdAt <= entry.before) return true;
      }
    }
    return false;
  }

  apply(r: Revocation, until: number, now: number): void {
    if (until <= now) return;
    if (r.kind === 'session') extend(this.sessions, r.sid, until);
    else if (r.kind === 'idp-session') extend(this.idpSessions, pair(r.iss, r.idpSid), until);
    else {
      const key = pair(r.iss, r.sub);
      const old = this.subjects.get(key);
      this.subjects.delete(key);
      this.subjects.set(key, { before: Math.max(r.before, old?.before ?? r.before), until: Math.max(until, old?.until ?? until) });
    }
    this.bound(now);
  }

  /** Drops expired entries, then (a flood of logouts) the oldest, so memory stays bounded. */
  private bound(now: number): void {
    if (this.size <= this.limits.maxEntries) return;
    for (const map of [this.sessions, this.idpSessions] as const) {
      for (const [k, until] of map) if (until <= now) map.delete(k);
    }
    for (const [k, e] of this.subjects) if (e.until <= now) this.subjects.delete(k);
    while (this.size > this.limits.maxEntries) {
      const map = [this.sessions, this.idpSessions, this.subjects].reduce((a, b) => (b.size > a.size ? b : a));
      const first = map.keys().next().value as string;
      map.delete(first);
      this.overflowed = true;
    }
  }
}

const pair = (iss: string, id: string) => `${iss}\u0000${id}`;

function live(map: Map<string, number>, key: string, now: number): boolean {
  const until = map.get(key);
  if (until === undefined) return false;
  if (until > now) return true;
  map.delete(key);
  return false;
}

/** Re-inserted at the end (Map order approximates age for the bound) with the later expiry. */
function extend(map: Map<string, number>, key: string, until: number): void {
  const old = map.get(key);
  map.delete(key);
  map.set(key, Math.max(until, old ?? until));
}
