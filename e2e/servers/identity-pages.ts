// HTML pages of the local identity server. Self-contained: no external fonts, scripts or CSS,
// so everything works without internet.

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}
main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#2458c6;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#b00020;background:#fdecea;padding:.5rem;border-radius:4px}.hint{color:#666;font-size:.85rem}`;

export function page(title: string, body: string, headExtra = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>${headExtra}
</head>
<body><main>${body}</main></body>
</html>`;
}

export function loginPage(opts: { action: string; clientId?: string; error?: string; username?: string }): string {
  const error = opts.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(opts.error)}</p>` : '';
  return page('Sign in', `<h1>Sign in${opts.clientId ? ` to ${escapeHtml(opts.clientId)}` : ''}</h1>
${error}
<form method="post" action="${escapeHtml(opts.action)}" autocomplete="off">
<label for="username">Username</label>
<input id="username" name="username" type="text" required autofocus value="${escapeHtml(opts.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>
<p class="hint">Demo identity server: any username, password <code>Password1</code>.</p>`);
}

/**
 * RP-initiated logout confirmation. oidc-provider hands us its form (id "op.logoutForm", POST to
 * /session/end/confirm with the xsrf token). We add logout=yes (end the whole IdP session) and
 * submit it automatically with a tiny inline script; the visible button is the no-script fallback.
 */
export function logoutPage(form: string): string {
  const withLogout = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  const body = `<h1>Signing out…</h1>
${withLogout}
<button type="submit" form="op.logoutForm" id="logout-confirm" autofocus>Yes, sign me out</button>`;
  const script = `<script>document.addEventListener('DOMContentLoaded',function(){document.getElementById('op.logoutForm').submit()})</script>`;
  return page('Signing out', body, script);
}

export function postLogoutPage(): string {
  return page('Signed out', '<h1>Signed out</h1><p>Your sign-out was successful.</p>');
}

export function errorPage(out: Record<string, unknown>): string {
  const rows = Object.entries(out)
    .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
    .join('\n');
  return page('Error', `<h1>Something went wrong</h1>\n${rows}`);
}
