// POST /oauth-agent/login/end: finishes the login when the page URL carries the authorization
// response for a pending transaction; otherwise reports the current session (Curity contract).
import { nowSeconds } from '../clock';
import type { Session } from '../cookies/session-cookies';
import { jsonResponse, badRequest, FrontChannelError, ThError, toErrorResponse } from '../errors';
import { log } from '../log';
import type { SessionPrincipal } from '../cookies/session-cookies';
import { decodeIdTokenClaims } from '../oidc/id-token-claims';
import { countLogin } from '../observability/metrics';
import type { LoginTransaction } from '../oidc/authorization-request';
import { redeemAuthorizationCode } from '../oidc/token-requests';
import { placeSessionTokens } from '../session/server-side-tokens';
import { setCookieHeaders, type AgentContext } from './agent-route';
import { findRedemption, joinRedemption, responseTagOf, startRedemption, transactionKey, type Redemption } from './login-redemptions';
import { clearLoginTransaction, readLoginTransactionWithExpiry } from './login-transaction';
import { describeSession, reportSession } from './session-status';

/** The authorization response parameters of `pageUrl`, which must be on PUBLIC_ORIGIN. */
function parsePageUrl(body: unknown, publicOrigin: string): URLSearchParams {
  const pageUrl = (body as { pageUrl?: unknown } | null | undefined)?.pageUrl;
  if (typeof pageUrl !== 'string' || pageUrl.length > 8192) throw badRequest('pageUrl is missing');
  const url = URL.parse(pageUrl);
  if (!url || url.origin !== publicOrigin) throw badRequest('pageUrl is not on the application\'s origin');
  return url.searchParams;
}

export async function endLogin(ctx: AgentContext): Promise<Response> {
  const { config, cookies, jar } = ctx;
  const params = parsePageUrl(ctx.body, config.publicOrigin);
  const state = params.get('state');
  const isResponse = state !== null && (params.has('code') || params.has('error'));
  if (!isResponse) return reportSession(ctx);

  const clearTransaction: Array<[string, string]> = [['set-cookie', clearLoginTransaction(config, state)]];
  try {
    const now = nowSeconds();
    const key = transactionKey(state);
    const responseTag = responseTagOf(params);
    // RFC 9700 §4.7.1 / next-auth CVE-2023-27490: no transaction cookie, no login.
    const pending = readLoginTransactionWithExpiry(config, cookies.codec, jar, state);
    // An error response redeems nothing: each is answered with its own code (and clears the cookie).
    const redeems = params.get('error') === null;
    const earlier = redeems ? findRedemption(key, now) : undefined;
    if (earlier) return await answerDuplicate(ctx, earlier, responseTag, pending !== undefined, now, clearTransaction);
    if (!pending) throw badRequest('No pending login matches this response');
    const { transaction, expiresAt } = pending;
    const session = redeems
      ? await startRedemption(key, responseTag, expiresAt, now, () => finishLogin(ctx, params, transaction)).result
      : await finishLogin(ctx, params, transaction);
    log('info', 'login_completed', { sid: session.sid });
    countLogin('success');
    return jsonResponse(200, describeSession(session, true), [...setCookieHeaders(cookies.write(jar, session)), ...clearTransaction]);
  } catch (err) {
    const code = err instanceof ThError || err instanceof FrontChannelError ? err.code : 'server_error';
    log('warn', 'login_failed', { code });
    countLogin('failure');
    // The failed transaction's cookie is cleared with the error, whatever the error.
    return toErrorResponse(err, { path: new URL(ctx.request.url).pathname, method: ctx.request.method }, clearTransaction);
  }
}

/** What back-channel logout names the session by (§7), from the ID token just validated. */
function principalOf(idToken: string | undefined): SessionPrincipal {
  if (!idToken) return {};
  const claims = decodeIdTokenClaims(idToken);
  return { iss: claims.iss, sub: claims.sub, ...(typeof claims.sid === 'string' ? { idpSid: claims.sid } : {}) };
}

/** The one redemption of an authorization response: checks, code exchange, a new session. */
async function finishLogin({ config, cookies }: AgentContext, params: URLSearchParams, transaction: LoginTransaction): Promise<Session> {
  if (transaction.issuer !== config.oidc.issuer) throw badRequest('The login was started with another identity server');
  const error = params.get('error');
  // RFC 6749 §4.1.2.1: the code goes to the SPA; error_description is attacker-controllable, never echoed.
  if (error !== null) throw new FrontChannelError(error);
  const responseParams = new URLSearchParams();
  for (const name of ['code', 'state', 'iss', 'session_state']) {
    const v = params.get(name);
    if (v !== null) responseParams.set(name, v);
  }
  const tokens = await redeemAuthorizationCode(config.oidc, responseParams, transaction);
  // Docs/contract.md §7 "Big tokens": decided once, so a duplicate login/end gets the same cookies.
  return placeSessionTokens(cookies.create(tokens, undefined, principalOf(tokens.idToken)), cookies, config);
}

/**
 * Contract §2: login/end for a transaction this process has already started to finish. A
 * duplicate sent with the first call (it still carries the transaction cookie) shares its outcome
 * and gets the same session's cookies; a later one from the browser that now holds that session is
 * told so (handled, nothing set); anything else, such as a kept transaction cookie replayed after
 * the window, is refused. None of them redeems the code again.
 */
async function answerDuplicate(
  { cookies, jar }: AgentContext, earlier: Redemption, responseTag: string, hasTransaction: boolean, now: number,
  clearTransaction: Array<[string, string]>,
): Promise<Response> {
  if (earlier.responseTag !== responseTag) throw badRequest('This login has already been finished');
  const shared = hasTransaction ? joinRedemption(earlier, now) : undefined;
  if (shared) {
    const session = await shared;
    return jsonResponse(200, describeSession(session, true), [...setCookieHeaders(cookies.write(jar, session)), ...clearTransaction]);
  }
  const current = cookies.read(jar);
  if (earlier.outcome && current.status === 'ok' && current.value.sid === earlier.outcome.sid) {
    return jsonResponse(200, describeSession(current.value, true), clearTransaction);
  }
  throw badRequest('No pending login matches this response');
}
