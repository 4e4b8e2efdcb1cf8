// The SPA's side of the token handler: one small object that knows the OAuth Agent's endpoints
// (docs/contract.md §2), calls the OAuth Proxy (`/api/*`, docs/contract.md §3) with the CSRF header, refreshes once
// for all concurrent callers when a call is rejected because its access token expired, and keeps
// tabs in step.
// Browser-only and dependency-free. The CSRF value lives in this object's memory only: never in
// storage, never in cross-tab messages (after a reload, onPageLoad()/session() fetch it again).
import { holdsAuthorizationResponse, removeAuthorizationResponseParams } from './address-bar';
import { browserCrossTabEnv, CrossTab, type CrossTabMessage } from './cross-tab';
import { httpUrl, type ExtraParams, type HistoryLike, type LocationLike, type PageLoadResult, type SessionBody, type SessionState, type TokenHandlerClientOptions } from './client-types';
import { Emitter, type Listener, type TokenHandlerEvent } from './events';
import { readErrorResponse, TokenHandlerError } from './errors';
import { csrfHeaderName, isSafeMethod, toSameOriginRequest } from './same-origin-request';

export { TokenHandlerError } from './errors';
export type { TokenHandlerErrorCode, ServerErrorCode, ClientErrorCode } from './errors';
export type { TokenHandlerEvent, TokenHandlerEventDetail, Listener } from './events';
export type { ExtraParams, HistoryLike, LocationLike, PageLoadResult, SessionState, TokenHandlerClientOptions } from './client-types';

export class TokenHandlerClient {
  private readonly events = new Emitter();
  private readonly crossTab: CrossTab;
  private readonly agentBase: URL;
  private readonly csrfHeader: string;
  private readonly doFetch: typeof fetch;
  private readonly location: LocationLike;
  private readonly history: HistoryLike | undefined;
  private readonly postLogoutUrl: string;
  /** `/` or `/shop/`: relative th.fetch URLs resolve under it. */
  private readonly basePath: string;
  private csrf: string | null = null;
  private state: 'unknown' | 'signed-in' | 'signed-out' = 'unknown';
  /** Counts completed refreshes (here or in another tab): a 401 to a request sent before one is just retried. */
  private generation = 0;
  private refreshing: Promise<void> | null = null;
  /** The last onPageLoad(): a repeat for the same URL (React StrictMode runs effects twice) shares it. */
  private pageLoad: { url: string; promise: Promise<PageLoadResult> } | null = null;

  constructor(options: TokenHandlerClientOptions = {}) {
    const g = globalThis as unknown as { location: LocationLike; history?: HistoryLike };
    this.location = options.location ?? g.location;
    this.history = options.history ?? g.history;
    this.doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const base = (options.basePath ?? '/').replace(/\/+$/, '');
    this.basePath = `${base}/`;
    this.agentBase = new URL(`${(options.agentPath ?? `${base}/oauth-agent`).replace(/\/+$/, '')}/`, this.location.origin);
    this.csrfHeader = csrfHeaderName(options.cookiePrefix ?? 'th');
    this.postLogoutUrl = options.postLogoutUrl ?? this.basePath;
    this.crossTab = new CrossTab(options.crossTab ?? browserCrossTabEnv(), base);
    this.crossTab.onMessage((m) => this.onOtherTab(m));
  }

  on(event: TokenHandlerEvent, fn: Listener): () => void {
    return this.events.on(event, fn);
  }

  get isLoggedIn(): boolean {
    return this.state === 'signed-in';
  }

  /**
   * Call on every page load: finishes a login when the address bar holds the authorization response,
   * otherwise reports the session. Cleans the response parameters from the address bar either way.
   * A second call for the same URL while the first runs, or for an authorization response already
   * handled, gets the first call's result: an authorization response is sent to login/end once.
   */
  onPageLoad(pageUrl: string = this.location.href): Promise<PageLoadResult> {
    const last = this.pageLoad;
    if (last && last.url === pageUrl) return last.promise;
    const promise = this.loadPage(pageUrl);
    const entry = { url: pageUrl, promise };
    this.pageLoad = entry;
    // A plain page URL may be asked about again later (the session changes); a login response never.
    const forget = () => { if (this.pageLoad === entry && !holdsAuthorizationResponse(pageUrl)) this.pageLoad = null; };
    promise.then(forget, forget);
    return promise;
  }

  private async loadPage(pageUrl: string): Promise<PageLoadResult> {
    let body: SessionBody;
    try {
      body = await this.agentJson('POST', 'login/end', { pageUrl });
    } catch (err) {
      // A failed or replayed response must not stay in the address bar to be retried on reload.
      if (holdsAuthorizationResponse(pageUrl)) this.cleanAddressBar(pageUrl);
      throw err;
    }
    const session = this.applySession(body);
    if (session.handled) {
      this.cleanAddressBar(pageUrl);
      this.events.emit('login', { source: 'this-tab' });
      this.crossTab.post('login');
    }
    return session.isLoggedIn ? { ...session, claims: await this.getClaims() } : session;
  }

  /** GET /session: is there a session, and (kept in memory) its CSRF value. */
  async session(): Promise<SessionState> {
    return this.applySession(await this.agentJson('GET', 'session'));
  }

  /** POST login/start and return the authorization request URL without navigating. */
  async startLogin(extraParams?: ExtraParams): Promise<string> {
    const params = Array.isArray(extraParams) ? extraParams
      : Object.entries(extraParams ?? {}).map(([key, value]) => ({ key, value }));
    const body = await this.agentJson<{ authorizationRequestUrl?: unknown }>('POST', 'login/start', params.length ? { extraParams: params } : {});
    return httpUrl(body.authorizationRequestUrl);
  }

  /** Starts a login: the browser leaves for the identity server and comes back to onPageLoad(). */
  async login(extraParams?: ExtraParams): Promise<void> {
    this.location.assign(await this.startLogin(extraParams));
  }

  /** POST logout with CSRF, tell the other tabs, then go to the end-session URL (or the app). */
  async logout(): Promise<void> {
    let url: string | null = null;
    try {
      const body = await this.agentJson<{ url?: unknown }>('POST', 'logout', undefined, true);
      url = body.url == null ? null : httpUrl(body.url);
    } catch (err) {
      // 401: the session had already ended (another tab, expiry): the user is signed out all the same.
      if (!(err instanceof TokenHandlerError && err.status === 401)) throw err;
    }
    this.signOut('logout', 'this-tab');
    this.location.assign(url ?? new URL(this.postLogoutUrl, this.location.origin).href);
  }

  async getUserInfo(): Promise<Record<string, unknown>> {
    return this.agentGetWithRefresh('userInfo');
  }

  async getClaims(): Promise<Record<string, unknown>> {
    return this.agentGetWithRefresh('claims');
  }

  /** POST /oauth-agent/refresh, shared: concurrent callers (and tabs) wait for one refresh. */
  async refresh(): Promise<void> {
    return this.refreshAfter(this.generation);
  }

  /**
   * `fetch` for the app's own origin (`/api/...`): adds the CSRF header on unsafe methods. When the
   * access token was rejected as expired (`token_expired`, or the API's `WWW-Authenticate: Bearer
   * error="invalid_token"`) it refreshes once (shared by every waiting caller) and retries once; any
   * other 401 (an API's own refusal, a missing CSRF header) is the caller's to handle. Throws
   * TokenHandlerError `session_expired` when the session has ended or cannot be refreshed, and
   * `cross_origin_request` for other origins.
   */
  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = toSameOriginRequest(input, init, this.location.origin, this.basePath);
    const retry = request.clone(); // the body can be read once: keep a copy for the single retry
    const generation = this.generation;
    const response = await this.send(request);
    if (response.status !== 401) return response;
    const reason = await rejectionReason(response);
    if (reason === 'session_expired') {
      await response.body?.cancel();
      this.signOut('session_expired', 'this-tab');
      throw new TokenHandlerError('session_expired', 401, 'The session has ended; sign in again');
    }
    if (reason !== 'token_expired') return response;
    await response.body?.cancel();
    await this.refreshAfter(generation);
    return this.send(retry);
  }

  /** Stops listening to other tabs (for apps that create and discard clients). */
  close(): void {
    this.crossTab.close();
  }

  /** Contract §2: the CSRF header on unsafe methods (agent: refresh, logout), only ever to this origin. */
  private async send(request: Request, withCsrf = !isSafeMethod(request.method)): Promise<Response> {
    if (withCsrf && this.csrf) request.headers.set(this.csrfHeader, this.csrf);
    try {
      return await this.doFetch(request);
    } catch (err) {
      throw new TokenHandlerError('network_error', 0, 'The token handler could not be reached', { cause: err });
    }
  }

  private async refreshAfter(generation: number): Promise<void> {
    if (this.generation !== generation) return; // a refresh completed after the request went out
    this.refreshing ??= this.crossTab
      .withRefreshLock(() => this.generation === generation, () => this.refreshNow())
      .finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  private async refreshNow(): Promise<void> {
    try {
      await this.agentJson('POST', 'refresh', undefined, true);
    } catch (err) {
      this.crossTab.post('refresh_failed');
      // Contract §2: 401 session_expired (refresh token rejected) or unauthorized_request (no session).
      if (err instanceof TokenHandlerError && err.status === 401) {
        this.signOut('session_expired', 'this-tab');
        throw new TokenHandlerError('session_expired', 401, 'The session has ended; sign in again', { cause: err });
      }
      throw err;
    }
    this.generation += 1;
    this.events.emit('refresh', { source: 'this-tab' });
    this.crossTab.post('refreshed');
  }

  private async agentGetWithRefresh<T>(path: string): Promise<T> {
    const generation = this.generation;
    try {
      return await this.agentJson<T>('GET', path);
    } catch (err) {
      // Contract §2: token_expired means "refresh and retry once".
      if (!(err instanceof TokenHandlerError && err.code === 'token_expired')) throw err;
      await this.refreshAfter(generation);
      return this.agentJson<T>('GET', path);
    }
  }

  private async agentJson<T = SessionBody>(method: string, path: string, body?: unknown, withCsrf = false): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const request = new Request(new URL(path, this.agentBase), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'same-origin',
    });
    const response = await this.send(request, withCsrf);
    if (!response.ok) throw await readErrorResponse(response);
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch (err) {
      throw new TokenHandlerError('invalid_response', response.status, 'The token handler answered with something other than JSON', { cause: err });
    }
  }

  private applySession(body: SessionBody): SessionState {
    const isLoggedIn = body.isLoggedIn === true;
    this.state = isLoggedIn ? 'signed-in' : 'signed-out';
    this.csrf = isLoggedIn && typeof body.csrf === 'string' ? body.csrf : null;
    const state: SessionState = { isLoggedIn, handled: body.handled === true };
    if (typeof body.accessTokenExpiresIn === 'number') state.accessTokenExpiresIn = body.accessTokenExpiresIn;
    return state;
  }

  private cleanAddressBar(pageUrl: string): void {
    const cleaned = removeAuthorizationResponseParams(pageUrl);
    if (cleaned !== null && this.history) this.history.replaceState(this.history.state, '', cleaned);
  }

  private signOut(event: 'logout' | 'session_expired', source: 'this-tab' | 'other-tab'): void {
    const wasSignedOut = this.state === 'signed-out';
    this.state = 'signed-out';
    this.csrf = null;
    if (source === 'this-tab') this.crossTab.post(event);
    if (!wasSignedOut) this.events.emit(event, { source });
  }

  private onOtherTab(message: CrossTabMessage): void {
    if (message.type === 'logout' || message.type === 'session_expired') {
      this.signOut(message.type, 'other-tab');
    } else if (message.type === 'refreshed') {
      this.generation += 1;
      this.events.emit('refresh', { source: 'other-tab' });
    } else if (message.type === 'login') {
      // A new session means a new CSRF value: fetch it (it never travels between tabs).
      void this.session().then((s) => { if (s.isLoggedIn) this.events.emit('login', { source: 'other-tab' }); }, () => {});
    }
  }
}

/**
 * Why a 401 was given: the contract's `session_expired` (the BFF ended the session and cleared its
 * cookies) or `token_expired`, or RFC 6750 §3.1 `invalid_token` from the API; anything else is `other`.
 */
async function rejectionReason(response: Response): Promise<'token_expired' | 'session_expired' | 'other'> {
  // RFC 6750 §3: the error attribute of a Bearer challenge (quoted or not).
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (/^\s*Bearer\b/i.test(challenge) && /\berror\s*=\s*"?invalid_token"?/i.test(challenge)) return 'token_expired';
  if (!(response.headers.get('content-type') ?? '').includes('json')) return 'other';
  try {
    const code = ((await response.clone().json()) as { code?: unknown } | null)?.code;
    return code === 'token_expired' || code === 'session_expired' ? code : 'other';
  } catch {
    return 'other';
  }
}

export function createTokenHandlerClient(options?: TokenHandlerClientOptions): TokenHandlerClient {
  return new TokenHandlerClient(options);
}
