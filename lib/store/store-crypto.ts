// What the session store holds is unreadable without the cookie keys (docs/contract.md §6): key names are
// keyed hashes (HMAC-SHA-256 with a key derived from COOKIE_KEYS, so a leaked dump cannot even be
// matched against a known token), values are sealed with the cookie codec, bound to their key name.
import { createHmac, hkdfSync } from 'node:crypto';
import { nowMs } from '../clock';
import type { Config } from '../config';
import { CookieCodec } from '../cookies/codec';

export class StoreCrypto {
  private readonly nameKey: Buffer;
  private readonly codec: CookieCodec;

  constructor(config: Pick<Config, 'cookieKeys' | 'publicOrigin' | 'cookiePrefix'>) {
    // RFC 5869: a separate key for naming, never the encryption key itself. Derived from the first
    // cookie key: instances that share COOKIE_KEYS (and its order) share names.
    this.nameKey = Buffer.from(hkdfSync('sha256', config.cookieKeys[0]!, Buffer.alloc(0), 'nth store key names v1', 32));
    // Own app string: a store value can never be opened as a cookie, nor a cookie as a store value.
    this.codec = new CookieCodec(config.cookieKeys, `${config.publicOrigin} ${config.cookiePrefix} session-store`);
  }

  /** The key name part for `purpose` and an identifier (e.g. the SHA-256 of a refresh token). */
  name(purpose: string, id: string): string {
    return createHmac('sha256', this.nameKey).update(`${purpose}\0${id}`, 'utf8').digest('base64url');
  }

  /** AES-256-GCM, associated data = purpose and key name (RFC 5116 §3): a value moved to another key does not open. */
  seal(purpose: string, name: string, payload: string, ttlSeconds: number): string {
    return this.codec.seal(`${purpose} ${name}`, payload, nowMs() / 1000 + ttlSeconds);
  }

  open(purpose: string, name: string, sealed: string): string | null {
    return this.codec.open(`${purpose} ${name}`, sealed);
  }
}
