// The cookie codec, shared by the OAuth Agent and the OAuth Proxy. Format v1 (README "Cookie format"):
//
//   base64url( version=0x01 | keyId (1 byte) | iv (12 bytes) | AES-256-GCM ciphertext | tag (16 bytes) )
//   plaintext = expiry (uint32 big-endian, unix seconds) | UTF-8 payload
//   associated data = "nth1" NUL app NUL purpose
//
// node:crypto AES-GCM measured ~7 µs per 1 KB decrypt (docs/architecture.md); the proxy runs this per request.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { nowMs } from '../clock';

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 2 + IV_BYTES;

export interface CookieKey {
  readonly id: number;
  readonly key: Buffer;
}

/** Key id = first byte of SHA-256(key): stable under reordering of COOKIE_KEYS, unlike an index. */
export function toCookieKeys(keys: readonly Buffer[]): CookieKey[] {
  return keys.map((key) => ({ id: createHash('sha256').update(key).digest()[0]!, key }));
}

export class CookieCodec {
  private readonly keys: readonly CookieKey[];
  private readonly app: string;
  private readonly aads = new Map<string, Buffer>();

  /** `app` identifies this deployment (origin + prefix) so cookies of another app sharing keys do not open here. */
  constructor(keys: readonly Buffer[], app: string) {
    if (keys.length === 0) throw new Error('CookieCodec needs at least one key');
    for (const k of keys) if (k.length !== 32) throw new Error('cookie keys must be 32 bytes');
    this.keys = toCookieKeys(keys);
    this.app = app;
  }

  // RFC 5116 §3: associated data binds the purpose, so an ID-token cookie cannot be replayed in the
  // access-token slot (next-auth CVE-2023-48309 accepted a check-cookie as the session cookie).
  private aad(purpose: string): Buffer {
    let aad = this.aads.get(purpose);
    if (!aad) this.aads.set(purpose, (aad = Buffer.from(`nth1\0${this.app}\0${purpose}`, 'utf8')));
    return aad;
  }

  seal(purpose: string, payload: string, expiresAtSeconds: number): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(this.aad(purpose));
    const exp = Buffer.allocUnsafe(4);
    exp.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.floor(expiresAtSeconds))));
    const body = Buffer.concat([cipher.update(exp), cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([Buffer.from([VERSION, id]), iv, body]).toString('base64url');
  }

  /** The payload, or null when the value is malformed, forged, of another purpose, unknown-keyed or expired. */
  open(purpose: string, sealed: string, nowSeconds = nowMs() / 1000): string | null {
    return this.openWithExpiry(purpose, sealed, nowSeconds)?.payload ?? null;
  }

  /** As `open`, with the expiry sealed into the value (unix seconds). */
  openWithExpiry(purpose: string, sealed: string, nowSeconds = nowMs() / 1000): { payload: string; expiresAt: number } | null {
    if (sealed.length < 46 || !/^[A-Za-z0-9_-]+$/.test(sealed)) return null;
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < HEADER_BYTES + 4 + TAG_BYTES || raw[0] !== VERSION) return null;
    const iv = raw.subarray(2, HEADER_BYTES);
    const ciphertext = raw.subarray(HEADER_BYTES, raw.length - TAG_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    for (const { id, key } of this.keys) {
      if (id !== raw[1]) continue;
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(this.aad(purpose));
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
      } catch {
        continue; // a key-id collision, or a forgery: try the next key with this id
      }
      const expiresAt = plain.readUInt32BE(0);
      if (expiresAt <= nowSeconds) return null;
      return { payload: plain.toString('utf8', 4), expiresAt };
    }
    return null;
  }
}
