// How a failed upstream exchange becomes a contract error, the same on both transports.
import { ThError } from '../errors';

/** Raised by a transport when no response headers arrived within UPSTREAM_TIMEOUT_MS. */
export class UpstreamTimeoutError extends Error {
  constructor() { super('upstream response headers timed out'); this.name = 'UpstreamTimeoutError'; }
}

/** Raised by a transport when a request body crosses MAX_BODY_BYTES or arrived truncated. */
export class BodyTooLargeError extends Error {
  constructor() { super('request body over the limit'); this.name = 'BodyTooLargeError'; }
}

/** 504 for a timeout, 413 for an oversized body, 502 for anything else (refused, reset, DNS). */
export function toUpstreamError(err: unknown): ThError {
  if (err instanceof ThError) return err;
  if (err instanceof BodyTooLargeError) return new ThError('payload_too_large', 'The request body is too large');
  const name = err instanceof Error ? err.name : '';
  if (err instanceof UpstreamTimeoutError || name === 'TimeoutError') {
    return new ThError('gateway_timeout', 'The API did not answer in time', { cause: err });
  }
  return new ThError('bad_gateway', 'The API could not be reached', { cause: err });
}

export const payloadTooLarge = () => new ThError('payload_too_large', 'The request body is too large');

/** Contract §3: an upstream status outside 100–599, or an unasked-for 101, is answered 502. */
export const invalidUpstreamStatus = (status: number) =>
  new ThError('bad_gateway', 'The API gave an invalid answer', { cause: new Error(`upstream status ${status}`) });
