// Each authorization response is redeemed at most once per process (docs/contract.md §2). A page that runs
// its page-load logic twice (React StrictMode) sends two login/end calls with the same code/state;
// redeeming the code twice is a replay to the identity server, which then revokes the grant
// (RFC 6749 §4.1.2, RFC 9700 §4.2.4) while the first call has already set the browser's cookies.
// So the first call redeems, every duplicate sent with it (in flight, or arriving up to
// DUPLICATE_WINDOW_SECONDS after it finished: the browser had not seen the first answer yet) shares
// its result, and the transaction is remembered as finished until it would have expired, so a
// replayed transaction cookie never starts a second redemption nor, after the window, gets a session.
import { createHash } from 'node:crypto';
import type { Session } from '../cookies/session-cookies';
import { nowMs } from '../clock';

export interface Redemption {
  /** SHA-256 of the authorization response's code (or error): the same transaction with another code is no duplicate. */
  readonly responseTag: string;
  /** The login's outcome, shared by every concurrent duplicate. */
  readonly result: Promise<Session>;
  /** Set once the result is known: the session id and when it finished on success, null on failure. */
  outcome?: { sid: string; finishedAt: number } | null;
  /** Unix seconds: when the transaction would have expired; forgotten after that. */
  readonly expiresAt: number;
}

/**
 * How long after a login finished a duplicate still carrying its transaction cookie gets the same
 * session. Duplicates of one page load arrive within milliseconds; a copied transaction cookie
 * (HttpOnly, `__Host-`, SameSite=Strict: it comes with the whole cookie jar) gets nothing after.
 */
export const DUPLICATE_WINDOW_SECONDS = 10;

/** A bound on memory: each entry is ~200 bytes; beyond it the oldest transactions are forgotten first. */
const MAX_REMEMBERED = 20_000;

const redemptions = new Map<string, Redemption>();

const tagOf = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

/** The key of a transaction: a hash of its state, so the map never holds the state itself. */
export const transactionKey = (state: string) => tagOf(`state\0${state}`);
export const responseTagOf = (params: URLSearchParams) =>
  tagOf(params.has('code') ? `code\0${params.get('code')}` : `error\0${params.get('error') ?? ''}`);

/** The redemption of this transaction, finished or in flight, if this process has seen one. */
export function findRedemption(key: string, now: number): Redemption | undefined {
  const found = redemptions.get(key);
  if (found && found.expiresAt <= now) { redemptions.delete(key); return undefined; }
  return found;
}

/** Starts the one redemption of a transaction and remembers it until `expiresAt`. */
export function startRedemption(key: string, responseTag: string, expiresAt: number, now: number, finish: () => Promise<Session>): Redemption {
  forgetExpired(now);
  const result = finish();
  const redemption: Redemption = { responseTag, result, expiresAt };
  result.then((s) => { redemption.outcome = { sid: s.sid, finishedAt: nowMs() / 1000 }; }, () => { redemption.outcome = null; });
  redemptions.set(key, redemption);
  return redemption;
}

/** The outcome a duplicate carrying the transaction cookie may share: in flight, or a success inside the window. */
export function joinRedemption(redemption: Redemption, now: number): Promise<Session> | undefined {
  const { outcome } = redemption;
  if (outcome === undefined) return redemption.result;
  if (outcome !== null && now - outcome.finishedAt <= DUPLICATE_WINDOW_SECONDS) return redemption.result;
  return undefined;
}

function forgetExpired(now: number): void {
  // Entries are inserted in time order and live ≤ 10 minutes, so expired ones are at the front.
  for (const [key, r] of redemptions) {
    if (r.expiresAt > now && redemptions.size < MAX_REMEMBERED) break;
    redemptions.delete(key);
  }
}
