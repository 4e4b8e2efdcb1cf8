// The identity server's own interaction pages (oidc-provider's devInteractions are disabled):
// a login form (any username, password "Password1") and consent granted automatically.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEMO_PASSWORD } from './identity-config';
import { errorPage, loginPage } from './identity-pages';

const MAX_FORM_BYTES = 16 * 1024;
// Any username works (it becomes `sub`); only length and control characters are limited.
const USERNAME = /^[^\u0000-\u001f\u007f]{1,64}$/u;

/* eslint-disable @typescript-eslint/no-explicit-any -- oidc-provider ships no types */
type Provider = any;

function sendHtml(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Consent is automatic: grant every missing OIDC scope/claim and resource scope. */
async function grantConsent(provider: Provider, req: IncomingMessage, res: ServerResponse, interaction: any) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, (scopes as string[]).join(' '));
  }
  const savedGrantId = await grant.save();
  const consent = grantId ? {} : { grantId: savedGrantId };
  await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

/**
 * Handles `/interaction/:uid` (GET) and `/interaction/:uid/login` (POST).
 * Returns false when the path is not an interaction path.
 */
export async function handleInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse, path: string) {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(path);
  if (!match) return false;
  const [, uid, login] = match;

  let interaction: any;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch {
    sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: 'login session expired or not found; start again' }));
    return true;
  }
  if (interaction.uid !== uid) {
    sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: 'interaction mismatch' }));
    return true;
  }
  const promptName: string = interaction.prompt.name;
  const action = `/interaction/${uid}/login`;
  const clientId: string | undefined = interaction.params.client_id;

  if (req.method === 'GET' && !login) {
    if (promptName === 'login') {
      sendHtml(res, 200, loginPage({ action, clientId, username: interaction.params.login_hint }));
    } else if (promptName === 'consent') {
      await grantConsent(provider, req, res, interaction);
    } else {
      sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: `unsupported prompt ${promptName}` }));
    }
    return true;
  }

  if (req.method === 'POST' && login && promptName === 'login') {
    const form = await readForm(req);
    const username = (form.get('username') ?? '').trim();
    if (!USERNAME.test(username) || form.get('password') !== DEMO_PASSWORD) {
      const error = USERNAME.test(username)
        ? 'Invalid username or password.'
        : 'Enter a username of at most 64 characters.';
      sendHtml(res, 401, loginPage({ action, clientId, error, username }));
      return true;
    }
    await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    return true;
  }

  if (req.method === 'POST' && login) {
    sendHtml(res, 400, errorPage({ error: 'invalid_request', error_description: 'this login was already completed; start again' }));
    return true;
  }
  res.writeHead(405, { allow: login ? 'POST' : 'GET', 'content-type': 'text/plain' });
  res.end('method not allowed');
  return true;
}
