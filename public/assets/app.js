// The demo SPA: plain ESM, no framework. Everything OAuth goes through the client library; the app
// never sees a token, only the user's claims and the API's answers.
import { createTokenHandlerClient, TokenHandlerError } from '/assets/token-handler-client.js';

// A page of several SPAs on one deployment names its base path and cookie prefix (public/shop/index.html).
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? undefined;
const th = createTokenHandlerClient({ basePath: meta('th-base-path'), cookiePrefix: meta('th-cookie-prefix') });
const $ = (id) => document.getElementById(id);
const SHOWN_CLAIMS = ['sub', 'name', 'email', 'iss', 'auth_time', 'exp'];

function showSignedOut(status = 'You are signed out.') {
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  $('status').textContent = status;
  $('api-result').textContent = '';
}

async function showSignedIn(claims) {
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  $('status').textContent = 'You are signed in.';
  const list = $('claims');
  list.replaceChildren();
  for (const name of SHOWN_CLAIMS.filter((n) => claims[n] !== undefined)) {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = name;
    dd.textContent = typeof claims[name] === 'number' && name !== 'sub' ? `${claims[name]} (${new Date(claims[name] * 1000).toISOString()})` : String(claims[name]);
    list.append(dt, dd);
  }
  // The local identity server's end-session page (oidc-provider's path): signing out there ends
  // every application's session, this one included, by back-channel logout (README).
  if (typeof claims.iss === 'string') $('sign-out-everywhere').href = new URL('/session/end', claims.iss).href;
  const user = await th.getUserInfo();
  $('user-name').textContent = user.name ?? user.preferred_username ?? user.sub;
}

function showError(err) {
  const box = $('error');
  box.hidden = false;
  box.textContent = err instanceof TokenHandlerError ? `${err.code} (${err.status || 'no response'}): ${err.message}` : String(err);
}

/** Runs a button's action with the button disabled, showing any error. */
function onClick(id, action) {
  $(id).addEventListener('click', async () => {
    $(id).disabled = true;
    $('error').hidden = true;
    try { await action(); } catch (err) { showError(err); } finally { $(id).disabled = false; }
  });
}

async function callApi(relative, init) {
  const path = new URL(relative, `${location.origin}${(meta('th-base-path') ?? '').replace(/\/$/, '')}/`).pathname; // e.g. /shop/api/whoami
  $('api-result').textContent = `${init?.method ?? 'GET'} ${path} …`;
  const response = await th.fetch(relative, init);
  const body = await response.json().catch(() => null);
  $('api-result').textContent = `${init?.method ?? 'GET'} ${path} → ${response.status}\n${JSON.stringify(body, null, 2)}`;
}

onClick('login', () => th.login());
onClick('logout', () => th.logout());
onClick('call-api', () => callApi('api/whoami'));
onClick('post-api', () => callApi('api/echo', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hello: 'from the demo SPA', at: new Date().toISOString() }),
}));

// Another tab signed out, or the session ended: switch views without a reload.
th.on('logout', () => showSignedOut('You signed out (in this or another tab).'));
th.on('session_expired', () => showSignedOut('Your session has ended. Please sign in again.'));
th.on('login', ({ source }) => { if (source === 'other-tab') th.getClaims().then(showSignedIn, showError); });

// Back from another tab or window (e.g. "Sign out everywhere" at the identity server): is the
// session still there? A session ended by back-channel logout answers 401 session_expired.
async function recheckSession() {
  if (!th.isLoggedIn) return;
  try {
    const { isLoggedIn } = await th.session();
    if (!isLoggedIn) showSignedOut();
  } catch (err) {
    if (err instanceof TokenHandlerError && err.status === 401) showSignedOut('Your session was ended at the identity server. Please sign in again.');
    else showError(err);
  }
}
window.addEventListener('focus', () => { void recheckSession(); });
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') void recheckSession(); });

const returningFromLogin = new URLSearchParams(location.search).has('state');
try {
  const { isLoggedIn, claims } = await th.onPageLoad();
  if (isLoggedIn) await showSignedIn(claims ?? {}); else showSignedOut();
} catch (err) {
  // An ended session (logout elsewhere, back-channel logout) answers 401 session_expired once, with its cookies cleared.
  if (err instanceof TokenHandlerError && err.code === 'session_expired') showSignedOut('Your session has ended. Please sign in again.');
  else {
    showSignedOut(returningFromLogin ? 'Sign-in did not complete.' : 'Could not check your session.');
    showError(err);
  }
}
