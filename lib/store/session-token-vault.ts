// Server-side tokens for big sessions (docs/contract.md §7, "Big tokens"): with a store, a session whose
// sealed cookies would exceed 8 KiB in all keeps its tokens here instead, and its cookies carry only
// a reference. Each entry is encrypted with a key of its own that is never stored: it travels only
// inside the browser's (sealed) cookie, beside the reference. A dump of the store, even together with
// the store's own naming key, reveals nothing; the key name is a keyed hash of the reference.
// Entries are immutable: a refresh writes a new one and retires the old one to the grace window, so
// a late request with the previous cookies still finds its tokens (docs/contract.md §6, REFRESH_GRACE_SECONDS).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SessionStore } from './redis-client';
import type { StoreCrypto } from './store-crypto';

const PURPOSE = 'tokens';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** RFC 6265bis §5.6 lets browsers cap a cookie at 4096 bytes; beyond 8 KiB in all, request headers get risky. */
export const MAX_COOKIE_BYTES_IN_ALL = 8 * 1024;

/** What the cookie carries: the entry's reference and its key (base64url). Never logged. */
export interface VaultRef { r: string; k: string }

export class SessionTokenVault {
  constructor(private readonly store: SessionStore, private readonly crypto: StoreCrypto) {}

  private keyOf(ref: VaultRef): { key: string; name: string } {
    const name = this.crypto.name(PURPOSE, ref.r);
    return { key: `${this.store.prefix}t:${name}`, name };
  }

  /** Stores `payload` for `ttlSeconds` under a fresh reference and key. Throws StoreUnavailableError. */
  async put(payload: string, ttlSeconds: number): Promise<VaultRef> {
    const ref: VaultRef = { r: randomBytes(16).toString('base64url'), k: randomBytes(32).toString('base64url') };
    const { key, name } = this.keyOf(ref);
    await this.store.command(['SET', key, encrypt(ref.k, name, payload), 'EX', Math.max(1, Math.ceil(ttlSeconds))]);
    return ref;
  }

  /** The payload, or undefined when it is gone (expired, removed) or does not open. Throws StoreUnavailableError. */
  async get(ref: VaultRef): Promise<string | undefined> {
    const { key, name } = this.keyOf(ref);
    const value = await this.store.command(['GET', key]);
    return typeof value === 'string' ? decrypt(ref.k, name, value) : undefined;
  }

  /** After a refresh wrote the successor: the old entry lives on for the grace window only. */
  async retire(ref: VaultRef, graceSeconds: number): Promise<void> {
    const { key } = this.keyOf(ref);
    await (graceSeconds > 0 ? this.store.command(['EXPIRE', key, graceSeconds, 'LT']) : this.store.command(['DEL', key]));
  }

  /** Logout or revocation: the tokens are gone at once. */
  async remove(ref: VaultRef): Promise<void> {
    await this.store.command(['DEL', this.keyOf(ref).key]);
  }
}

/** AES-256-GCM under the entry's own key; associated data = purpose and key name (RFC 5116 §3). */
function encrypt(k: string, name: string, payload: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(k, 'base64url'), iv);
  cipher.setAAD(Buffer.from(`${PURPOSE} ${name}`, 'utf8'));
  const body = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function decrypt(k: string, name: string, value: string): string | undefined {
  const raw = Buffer.from(value, 'base64url');
  const key = Buffer.from(k, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES || key.length !== 32) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${PURPOSE} ${name}`, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch { return undefined; }
}
