// Guards every agent route and every /api/* request applies for itself (nothing relies on proxy.ts
// having run: Next.js CVE-2025-29927 let a header skip middleware).
import { timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const isSafeMethod = (method: string) => SAFE_METHODS.has(method.toUpperCase());

export const csrfHeaderName = (cookiePrefix: string) => `x-${cookiePrefix.toLowerCase()}-csrf`;

interface HeaderSource { get(name: string): string | null }

/**
 * Fetch Metadata first (W3C Fetch Metadata §2: `Sec-Fetch-Site` must be `same-origin`), else the
 * `Origin` header must equal PUBLIC_ORIGIN exactly (OWASP CSRF cheat sheet, "Verifying origin").
 * With neither, only safe methods pass: every browser that can send a cross-site POST sends one of them.
 */
export function assertTrustedOrigin(headers: HeaderSource, method: string, publicOrigin: string): void {
  const site = headers.get('sec-fetch-site');
  if (site !== null) {
    if (site !== 'same-origin') throw unauthorized('The request is not from the application\'s origin');
    const origin = headers.get('origin');
    if (origin !== null && origin !== publicOrigin) throw unauthorized('The request is not from the application\'s origin');
    return;
  }
  const origin = headers.get('origin');
  if (origin !== null) {
    if (origin !== publicOrigin) throw unauthorized('The request is not from the application\'s origin');
    return;
  }
  if (!isSafeMethod(method)) throw unauthorized('The request has neither Sec-Fetch-Site nor Origin');
}

/** Constant-time comparison of the x-{p}-csrf header with the session's token (OWASP CSRF cheat sheet). */
export function assertCsrf(headers: HeaderSource, cookiePrefix: string, expected: string): void {
  const received = headers.get(csrfHeaderName(cookiePrefix));
  if (!received || !expected) throw unauthorized('The CSRF header is missing or wrong');
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw unauthorized('The CSRF header is missing or wrong');
}
