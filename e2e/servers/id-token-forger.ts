// Fault injector for ID-token validation tests: an HTTP server that stands in front of the real
// local identity server and presents itself as the issuer. Discovery is rewritten to point at
// itself, its JWKS is the real one plus a key of its own, every other request (authorization,
// login form, interaction) is passed through with the identity server's address rewritten — and on
// the token endpoint the returned `id_token` is replaced by a forgery chosen by `mode`, so each
// case really reaches the BFF's validation (openid-client). Test stand-in; never imports lib/.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

export type ForgeryMode =
  /** The real claims (iss rewritten to the forger), signed with the forger's published key: must be accepted. */
  | 'valid'
  | 'wrong-aud' | 'wrong-iss' | 'wrong-nonce' | 'expired' | 'issued-in-future'
  /** `alg: none`, no signature. */
  | 'alg-none'
  /** A valid forgery with one signature byte flipped. */
  | 'bad-signature'
  /** Signed by a key that is not in the JWKS. */
  | 'unknown-key'
  /** HS256 with the client secret as the key (algorithm confusion). */
  | 'hs256-client-secret'
  /** The token endpoint returns no id_token at all. */
  | 'missing';

export interface IdTokenForger {
  issuer: string;
  port: number;
  mode: ForgeryMode;
  /** Forged ID tokens handed out, newest last (to look for them in logs and responses). */
  issued: string[];
  close(): Promise<void>;
}

const ALG = 'RS256';

export async function startIdTokenForger(opts: { upstreamIssuer: string; clientSecret: string; port?: number }): Promise<IdTokenForger> {
  const upstream = opts.upstreamIssuer.replace(/\/$/, '');
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const rogue = await generateKeyPair(ALG);
  const kid = 'forger-key';
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
  let issuer = '';

  const rewrite = (text: string) => text.split(upstream).join(issuer).split(encodeURIComponent(upstream)).join(encodeURIComponent(issuer));

  async function forge(real: string): Promise<string | undefined> {
    const claims = decodeJwt(real);
    const now = Math.floor(Date.now() / 1000);
    const base: JWTPayload = { ...claims, iss: issuer };
    const sign = (payload: JWTPayload, key = privateKey, keyId = kid, alg = ALG) =>
      new SignJWT(payload).setProtectedHeader({ alg, kid: keyId, typ: 'JWT' }).sign(key);
    switch (state.mode) {
      case 'valid': return sign(base);
      case 'wrong-aud': return sign({ ...base, aud: 'someone-else' });
      case 'wrong-iss': return sign({ ...base, iss: 'https://evil.example' });
      case 'wrong-nonce': return sign({ ...base, nonce: 'forged-nonce' });
      case 'expired': return sign({ ...base, iat: now - 7200, exp: now - 3600 });
      case 'issued-in-future': return sign({ ...base, iat: now + 3600, exp: now + 7200 });
      case 'alg-none': {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        return `${header}.${Buffer.from(JSON.stringify(base)).toString('base64url')}.`;
      }
      case 'bad-signature': {
        const [h, p, sig] = (await sign(base)).split('.') as [string, string, string];
        const bytes = Buffer.from(sig, 'base64url');
        const i = bytes.length >> 1;
        bytes[i] = (bytes[i] ?? 0) ^ 0x01;
        return `${h}.${p}.${bytes.toString('base64url')}`;
      }
      case 'unknown-key': return sign(base, rogue.privateKey as never, kid);
      case 'hs256-client-secret': return sign(base, new TextEncoder().encode(opts.clientSecret) as never, kid, 'HS256');
      case 'missing': return undefined;
    }
  }

  async function passThrough(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (['host', 'connection', 'content-length', 'accept-encoding'].includes(name) || value === undefined) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const answer = await fetch(`${upstream}${req.url}`, {
      method: req.method, headers, redirect: 'manual', body: body.length && req.method !== 'GET' && req.method !== 'HEAD' ? new Uint8Array(body) : undefined,
    });
    let text = await answer.text();
    if (path === '/.well-known/openid-configuration') {
      const metadata = JSON.parse(rewrite(text)) as Record<string, unknown>;
      metadata.jwks_uri = `${issuer}/__forger/jwks`;
      text = JSON.stringify(metadata);
    } else if (path.endsWith('/token') && answer.ok) {
      const tokens = JSON.parse(text) as Record<string, unknown>;
      if (typeof tokens.id_token === 'string') {
        const forged = await forge(tokens.id_token);
        if (forged === undefined) delete tokens.id_token; else { tokens.id_token = forged; state.issued.push(forged); }
      }
      text = JSON.stringify(tokens);
    } else if ((answer.headers.get('content-type') ?? '').includes('html')) {
      text = rewrite(text);
    }
    const out: Record<string, string | string[]> = {};
    answer.headers.forEach((value, name) => {
      if (['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'set-cookie', 'keep-alive'].includes(name)) return;
      out[name] = name === 'location' ? rewriteLocation(value) : value;
    });
    const cookies = answer.headers.getSetCookie();
    if (cookies.length) out['set-cookie'] = cookies;
    res.writeHead(answer.status, out);
    res.end(text);
  }

  /** The identity server's own URLs become the forger's; `iss` in an authorization response too (RFC 9207). */
  function rewriteLocation(location: string): string {
    const url = URL.parse(location, upstream);
    if (!url) return location;
    if (url.origin === new URL(upstream).origin) return rewrite(url.href);
    if (url.searchParams.get('iss') === upstream) url.searchParams.set('iss', issuer);
    return url.href;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/__forger/jwks') {
        fetch(`${upstream}/.well-known/openid-configuration`).then((r) => r.json() as Promise<{ jwks_uri: string }>)
          .then((m) => fetch(m.jwks_uri)).then((r) => r.json() as Promise<{ keys: JWK[] }>).then((jwks) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ keys: [...jwks.keys, publicJwk] }));
        }, () => { res.writeHead(502); res.end(); });
        return;
      }
      passThrough(req, res, Buffer.concat(chunks)).catch(() => { if (!res.headersSent) res.writeHead(502); res.end(); });
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  issuer = `http://127.0.0.1:${port}`;
  const state: IdTokenForger = {
    issuer, port, mode: 'valid', issued: [],
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
  return state;
}
