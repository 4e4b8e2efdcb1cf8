// Parsing of the Cookie request header and serialisation of Set-Cookie, framework-free.

export class CookieJar {
  private readonly values = new Map<string, string[]>();

  constructor(header: string | null | undefined) {
    if (!header) return;
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = part.slice(0, eq).trim();
      let value = part.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      const list = this.values.get(name);
      if (list) list.push(value); else this.values.set(name, [value]);
    }
  }

  /**
   * The one value of `name`; undefined when absent. A name sent twice is ambiguous (one copy may
   * have been planted by a sibling site, RFC 6265bis §8.6), so it counts as present but unusable: null.
   */
  get(name: string): string | null | undefined {
    const list = this.values.get(name);
    if (!list) return undefined;
    return list.length === 1 ? list[0]! : null;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}

export interface SetCookieOptions {
  secure: boolean;
  maxAgeSeconds: number;
  /** Default `/`; an app under a base path (contract §8) scopes its cookies to it. */
  path?: string;
}

// RFC 6265bis §4.1: HttpOnly keeps tokens from JavaScript; SameSite=Strict keeps the cookie off
// cross-site requests; Path=/ and no Domain are what the __Host- prefix requires (§4.1.3.2).
export function serializeCookie(name: string, value: string, { secure, maxAgeSeconds, path = '/' }: SetCookieOptions): string {
  const maxAge = Math.max(0, Math.floor(maxAgeSeconds));
  return `${name}=${value}; Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function serializeCookieRemoval(name: string, secure: boolean, path = '/'): string {
  return `${name}=; Path=${path}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
