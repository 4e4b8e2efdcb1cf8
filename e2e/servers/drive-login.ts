// Drives the local identity server's login over plain HTTP (no browser): follows redirects by
// hand with a tiny cookie jar, fills in the login form, and stops at the first URL that leaves
// the identity server — the redirect URI on the BFF origin carrying code/state/iss.
import { DEMO_PASSWORD } from './identity-config';

interface StoredCookie { name: string; value: string; host: string; path: string; expires?: number }

/** Minimal RFC 6265 cookie jar: host-only cookies, path matching, Max-Age/Expires deletion. */
export class CookieJar {
  private cookies: StoredCookie[] = [];

  store(url: string | URL, setCookieHeaders: string[]) {
    const { hostname, pathname } = new URL(url);
    for (const header of setCookieHeaders) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const cookie: StoredCookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        host: hostname,
        path: pathname.slice(0, pathname.lastIndexOf('/') + 1) || '/',
      };
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const name = key.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (name === 'path' && value.startsWith('/')) cookie.path = value;
        else if (name === 'max-age') cookie.expires = Date.now() + Number(value) * 1000;
        else if (name === 'expires' && cookie.expires === undefined) cookie.expires = Date.parse(value);
      }
      this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.host === cookie.host && c.path === cookie.path));
      if (cookie.expires === undefined || cookie.expires > Date.now()) this.cookies.push(cookie);
    }
  }

  /** The `Cookie` request header for `url`, or undefined when no cookie applies. */
  header(url: string | URL): string | undefined {
    const { hostname, pathname } = new URL(url);
    const now = Date.now();
    const matching = this.cookies.filter((c) => c.host === hostname
      && (c.expires === undefined || c.expires > now)
      && (pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)));
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  get(name: string): string | undefined {
    return this.cookies.find((c) => c.name === name)?.value;
  }
}

/** fetch without following redirects, sending and storing cookies through `jar`. */
export async function fetchWithJar(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, res.headers.getSetCookie());
  return res;
}

/** The `action` and hidden inputs of the first form in `html` (or of the form with `formId`). */
export function parseForm(html: string, baseUrl: string, formId?: string) {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  const form = formId ? forms.find((f) => (f[1] ?? '').includes(`id="${formId}"`)) : forms[0];
  if (!form) return undefined;
  const [, attributes = '', inner = ''] = form;
  const action = /action="([^"]*)"/i.exec(attributes)?.[1] ?? '';
  const fields = new URLSearchParams();
  for (const [input] of inner.matchAll(/<input\b[^>]*>/gi)) {
    const name = /name="([^"]*)"/i.exec(input)?.[1];
    if (name && /type="hidden"/i.test(input)) fields.append(name, decodeEntities(/value="([^"]*)"/i.exec(input)?.[1] ?? ''));
  }
  return { action: new URL(decodeEntities(action), baseUrl).href, fields };
}

/** The visible text of an HTML page, shortened: enough to explain a failure. */
function pageText(html: string) {
  return decodeEntities(html.replace(/<(style|script)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ').trim().slice(0, 300);
}

function decodeEntities(s: string) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export interface LoginOptions { password?: string; maxSteps?: number }

/**
 * Logs `username` in at the identity server, starting from the authorization request URL.
 * Resolves with the final redirect URL (off the identity server's origin, e.g.
 * `http://localhost:3000/?code=…&state=…&iss=…`); rejects when the login form refuses the
 * credentials or the identity server answers with an error page.
 */
export async function loginAtIdentityServer(
  authorizationUrl: string, username: string, jar: CookieJar = new CookieJar(), options: LoginOptions = {},
): Promise<string> {
  const idpOrigin = new URL(authorizationUrl).origin;
  let url = authorizationUrl;
  let init: RequestInit = {};
  for (let step = 0; step < (options.maxSteps ?? 20); step += 1) {
    if (new URL(url).origin !== idpOrigin) return url;
    const res = await fetchWithJar(jar, url, init);
    init = {};
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url).href;
      continue;
    }
    const html = await res.text();
    if (res.status === 200 && /name="password"/.test(html)) {
      const form = parseForm(html, url);
      if (!form) throw new Error('login page has no form');
      form.fields.set('username', username);
      form.fields.set('password', options.password ?? DEMO_PASSWORD);
      url = form.action;
      init = { method: 'POST', body: form.fields, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      continue;
    }
    throw new Error(`identity server answered ${res.status} at ${url}: ${pageText(html)}`);
  }
  throw new Error('too many redirects while logging in');
}

/**
 * Follows an end-session URL (RP-initiated logout), submits the confirmation form the way the
 * page's script would, and resolves with the final redirect URL (the post-logout redirect URI,
 * or the identity server's "signed out" page).
 */
export async function logoutAtIdentityServer(endSessionUrl: string, jar: CookieJar): Promise<string> {
  const idpOrigin = new URL(endSessionUrl).origin;
  let url = endSessionUrl;
  let init: RequestInit = {};
  for (let step = 0; step < 10; step += 1) {
    if (new URL(url).origin !== idpOrigin) return url;
    const res = await fetchWithJar(jar, url, init);
    init = {};
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url).href;
      continue;
    }
    const html = await res.text();
    const form = res.status === 200 ? parseForm(html, url) : undefined;
    if (!form || /\/session\/end\/success/.test(url)) return url;
    url = form.action;
    init = { method: 'POST', body: form.fields, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error('too many redirects while logging out');
}
