// Applies Set-Cookie lines to a Cookie header value the way a browser would for one origin:
// later lines replace earlier ones by name, Max-Age=0 / past Expires delete. Path is always `/`
// for this app's cookies, so it is not tracked.

/** The Cookie header after the browser processed `setCookies`, starting from `cookieHeader`. */
export function applySetCookies(cookieHeader: string, setCookies: readonly string[]): string {
  const store = new Map<string, string>();
  for (const part of cookieHeader.split(';').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq > 0) store.set(part.slice(0, eq), part.slice(eq + 1));
  }
  for (const line of setCookies) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) continue;
    const name = pair.slice(0, eq).trim();
    const expired = attributes.some((a) => {
      const [k = '', v = ''] = a.split('=').map((s) => s.trim());
      return (k.toLowerCase() === 'max-age' && Number(v) <= 0) || (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now());
    });
    if (expired) store.delete(name); else store.set(name, pair.slice(eq + 1).trim());
  }
  return [...store].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** The names in a Cookie header value. */
export function cookieNames(cookieHeader: string): string[] {
  return cookieHeader.split(';').map((p) => p.trim()).filter(Boolean).map((p) => p.slice(0, p.indexOf('=')));
}
