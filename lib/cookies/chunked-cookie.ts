// Values too large for one cookie are split across `name-0`, `name-1`, ... and re-joined on read.
// RFC 6265bis §5.6 lets user agents drop a cookie whose name + value exceed 4096 bytes.
import { CookieJar, serializeCookie, serializeCookieRemoval } from './cookie-jar';

export const MAX_COOKIE_NAME_VALUE_BYTES = 4096;
const MAX_CHUNKS = 10;

const chunkName = (name: string, i: number) => `${name}-${i}`;

/** The joined value; undefined when absent, null when present but unusable (duplicated or gapped). */
export function readChunked(jar: CookieJar, name: string): string | null | undefined {
  const single = jar.get(name);
  if (single !== undefined) return single;
  if (!jar.has(chunkName(name, 0))) return undefined;
  let joined = '';
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const part = jar.get(chunkName(name, i));
    if (part === undefined) break;
    if (part === null) return null;
    joined += part;
  }
  return joined;
}

/** Set-Cookie lines writing `value` under `name`, clearing chunks the browser holds but no longer needs. */
export function writeChunked(jar: CookieJar, name: string, value: string, secure: boolean, maxAgeSeconds: number, path = '/'): string[] {
  const room = MAX_COOKIE_NAME_VALUE_BYTES - name.length - 3; // name + "-N" + "="
  const out: string[] = [];
  let used: Set<string>;
  if (name.length + 1 + value.length <= MAX_COOKIE_NAME_VALUE_BYTES) {
    out.push(serializeCookie(name, value, { secure, maxAgeSeconds, path }));
    used = new Set([name]);
  } else {
    const count = Math.ceil(value.length / room);
    if (count > MAX_CHUNKS) throw new Error(`cookie ${name} would need ${count} chunks`);
    used = new Set();
    for (let i = 0; i < count; i++) {
      out.push(serializeCookie(chunkName(name, i), value.slice(i * room, (i + 1) * room), { secure, maxAgeSeconds, path }));
      used.add(chunkName(name, i));
    }
  }
  for (const stale of presentNames(jar, name)) if (!used.has(stale)) out.push(serializeCookieRemoval(stale, secure, path));
  return out;
}

/** Removal lines for `name` and each of its chunks that the browser sent. */
export function clearChunked(jar: CookieJar, name: string, secure: boolean, path = '/'): string[] {
  const names = presentNames(jar, name);
  if (!names.includes(name)) names.unshift(name); // always clear the base name, even if not sent
  return names.map((n) => serializeCookieRemoval(n, secure, path));
}

function presentNames(jar: CookieJar, name: string): string[] {
  const prefix = `${name}-`;
  return jar.names().filter((n) => n === name || (n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length))));
}
