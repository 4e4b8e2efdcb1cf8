// POST /oauth-agent/login/end: finishes the login when the page URL carries the authorization
// response for a pending transaction; otherwise reports the current session (Curity contract).
import { jsonResponse, badRequest, FrontChannelError, ThError, toErrorResponse } from '../errors';
import { log } from '../log';
import { redeemAuthorizationCode } from '../oidc/token-requests';
import { setCookieHeaders, type AgentContext } from './agent-route';
import { clearLoginTransaction, readLoginTransaction } from './login-transaction';
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
    // RFC 9700 §4.7.1 / next-auth CVE-2023-27490: no transaction cookie, no login. A replayed
    // code/state finds its cookie already deleted.
    const transaction = readLoginTransaction(config, cookies.codec, jar, state);
    if (!transaction) throw badRequest('No pending login matches this response');
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
    const session = cookies.create(tokens);
    log('info', 'login_completed', { sid: session.sid });
    return jsonResponse(200, describeSession(session, true), [...setCookieHeaders(cookies.write(jar, session)), ...clearTransaction]);
  } catch (err) {
    const code = err instanceof ThError || err instanceof FrontChannelError ? err.code : 'server_error';
    log('warn', 'login_failed', { code });
    // The failed transaction's cookie is cleared with the error, whatever the error.
    return toErrorResponse(err, { path: new URL(ctx.request.url).pathname, method: ctx.request.method }, clearTransaction);
  }
}
