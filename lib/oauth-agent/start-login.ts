// POST /oauth-agent/login/start: the authorization request URL plus its transaction cookie.
import { jsonResponse } from '../errors';
import { log } from '../log';
import { buildAuthorizationRequest, parseExtraParams } from '../oidc/authorization-request';
import { setCookieHeaders, type AgentContext } from './agent-route';
import { pruneLoginTransactions, writeLoginTransaction } from './login-transaction';

export async function startLogin({ config, cookies, jar, body }: AgentContext): Promise<Response> {
  const extraParams = parseExtraParams(body === undefined ? undefined : (body as { extraParams?: unknown } | null)?.extraParams);
  const { url, transaction } = await buildAuthorizationRequest(config.oidc, extraParams);
  log('info', 'login_started', { extraParams: Object.keys(extraParams) });
  // Abandoned logins never fill the browser's cookie jar: the oldest pending ones make room.
  const dropped = pruneLoginTransactions(config, cookies.codec, jar);
  return jsonResponse(200, { authorizationRequestUrl: url }, setCookieHeaders([writeLoginTransaction(config, cookies.codec, transaction), ...dropped]));
}
