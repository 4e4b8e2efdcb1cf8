// X-Request-Id (docs/contract.md §9): the client's own id when it is sane, so a caller's logs and ours share
// it; otherwise a new one. Sane = 1-128 visible ASCII characters: no spaces, control characters or
// anything that could split a log line or a header (log injection, CWE-117).
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The request id to use for a request that arrived with `received` (a header value, or its absence). */
export function requestIdFor(received: string | string[] | null | undefined): string {
  return typeof received === 'string' && SANE_REQUEST_ID.test(received) ? received : randomUUID();
}
