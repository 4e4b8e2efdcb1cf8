// The shapes the client library exposes and accepts; kept apart so the client itself stays small.
import type { CrossTabEnv } from './cross-tab';
import { TokenHandlerError } from './errors';

export interface LocationLike { readonly href: string; readonly origin: string; assign(url: string): void }
export interface HistoryLike { readonly state: unknown; replaceState(data: unknown, unused: string, url?: string): void }

export interface TokenHandlerClientOptions {
  /**
   * The app's base path with several SPAs on one deployment (`APP_<ID>_BASE_PATH`, e.g. `/shop`); default
   * `/`. Moves the agent to `<basePath>/oauth-agent`, resolves relative `th.fetch('api/x')` URLs under it,
   * makes `<basePath>/` the post-logout page and keeps cross-tab messages within the app.
   */
  basePath?: string;
  /** Where the OAuth Agent is mounted on this origin; default `<basePath>/oauth-agent`. */
  agentPath?: string;
  /** `COOKIE_PREFIX` of the token handler; names the CSRF header `x-{prefix}-csrf`. Default `th`. */
  cookiePrefix?: string;
  /** Where logout goes when the identity server has no end-session endpoint; default `<basePath>/`. */
  postLogoutUrl?: string;
  /** Injection points (tests, non-window hosts); default to the browser's globals. */
  fetch?: typeof fetch;
  location?: LocationLike;
  history?: HistoryLike;
  crossTab?: CrossTabEnv;
}

/** login/end and GET /session (docs/contract.md §2), without the CSRF value, which stays inside the client. */
export interface SessionState {
  isLoggedIn: boolean;
  handled: boolean;
  accessTokenExpiresIn?: number;
}

export interface PageLoadResult extends SessionState {
  /** The validated ID token's claims, when logged in. */
  claims?: Record<string, unknown>;
}

export type ExtraParams = Record<string, string> | ReadonlyArray<{ key: string; value: string }>;

export interface SessionBody { handled?: unknown; isLoggedIn?: unknown; csrf?: unknown; accessTokenExpiresIn?: unknown }

/** Only http(s) URLs are navigated to: a `javascript:` URL from a compromised response must not run. */
export function httpUrl(value: unknown): string {
  let url: URL | null = null;
  try { url = new URL(String(value)); } catch { /* not a URL */ }
  if (typeof value !== 'string' || !url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TokenHandlerError('invalid_response', 0, 'The token handler returned an unusable redirect URL');
  }
  return url.href;
}
