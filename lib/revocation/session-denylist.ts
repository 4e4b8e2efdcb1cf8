// The denylist of ended sessions (docs/contract.md §7): sessions live in cookies, so ending one before its
// cookies expire means remembering it until then. Checked on every agent and /api request, so the
// check is synchronous and local; an implementation shared by several instances (a store with a
// local mirror it keeps current) implements the same interface.

/** What a request's session cookies say about the session (lib/cookies/session-cookies.ts). */
export interface RevocableSession {
  /** The BFF's own session id (in every session cookie). */
  sid: string;
  /** The identity server's session id (ID token `sid`), issuer and subject, when recorded. */
  idpSid?: string;
  iss?: string;
  sub?: string;
  /** Unix seconds; absent in cookies sealed before it was recorded. */
  createdAt?: number;
}

/** One ended session or group of sessions. */
export type Revocation =
  /** POST /oauth-agent/logout: this BFF session. */
  | { kind: 'session'; sid: string }
  /** Back-Channel Logout 1.0 §2.4 with `sid`: every session of that identity-server session. */
  | { kind: 'idp-session'; iss: string; idpSid: string }
  /** §2.4 with only `sub`: every session of that subject created before `before` (the token's iat). */
  | { kind: 'subject'; iss: string; sub: string; before: number };

export interface SessionDenylist {
  /** Whether the session has ended. No I/O: a lookup in this instance's memory. */
  isRevoked(session: RevocableSession, now?: number): boolean;
  /**
   * Ends the session(s) until `until` (unix seconds: the latest moment a matching session's cookies
   * can still be valid), on every instance that shares the denylist.
   */
  revoke(revocation: Revocation, until: number): Promise<void>;
  /**
   * Records a logout token's `jti` (Back-Channel Logout 1.0 §2.6 step 8: a replay may be refused or
   * ignored). True the first time; false when it was seen before, and nothing more should happen.
   */
  claimLogoutToken(iss: string, jti: string, until: number): Promise<boolean>;
  /** Called after any revocation reaches this instance (its own or another's); returns the unsubscribe. */
  onRevoked(listener: (revocation: Revocation) => void): () => void;
}
