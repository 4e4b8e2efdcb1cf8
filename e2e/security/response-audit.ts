// The security suite's witness for what leaves the BFF: every response a test file receives from a
// BFF (global fetch is wrapped, raw-socket requests go through `raw`) is recorded, every token the
// BFF ever sealed into a cookie is recovered by decrypting the Set-Cookie lines with its keys, and
// at the end of the file `findings()` lists
//   - responses with Set-Cookie but without Cache-Control: no-store (nextjs-auth0 CVE-2025-48947),
//   - any token value (or a JWT's signature) in a response header, body or BFF log line.
import { loadConfig } from '../../lib/config';
import { CookieJar } from '../../lib/cookies/cookie-jar';
import { SessionCookies } from '../../lib/cookies/session-cookies';
import { applySetCookies } from '../harness/browser-cookies';
import { rawRequest, type RawRequestOptions, type RawResponse } from '../harness/http-request';
import type { RunningBff } from '../harness/start-bff';

export interface RecordedResponse {
  label: string;
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

const BODY_READ_TIMEOUT_MS = 3000;

/**
 * The sample API's default route reflects every header it received, its Authorization included:
 * that body is the upstream's own, passed through untouched (docs/contract.md §3), not a BFF leak. Its
 * headers are still scanned, and so is every other body.
 */
function isSampleApiEcho(r: RecordedResponse): boolean {
  if (!/\/api\//.test(r.label)) return false;
  try {
    const body = JSON.parse(r.body) as Record<string, unknown>;
    return Array.isArray(body.rawHeaders) && typeof body.claims === 'object';
  } catch {
    return false;
  }
}

export class ResponseAudit {
  readonly responses: RecordedResponse[] = [];
  readonly tokens = new Set<string>();
  private readonly pending: Array<Promise<void>> = [];
  private readonly bffs: RunningBff[] = [];
  private readonly realFetch = globalThis.fetch;
  /** Log lines of BFFs already stopped (a restarted BFF's logs object is new). */
  private readonly retiredLogs: string[] = [];

  /** Starts recording every fetch() response from an origin of `watch()`ed BFFs. */
  install(): this {
    const real = this.realFetch;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await real(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (this.bffs.some((b) => url.startsWith(`${b.origin}/`) || url.startsWith(`http://127.0.0.1:${b.port}/`))) {
        this.recordFetch(`${init?.method ?? 'GET'} ${url}`, res);
      }
      return res;
    }) as typeof fetch;
    return this;
  }

  uninstall(): void {
    globalThis.fetch = this.realFetch;
  }

  watch(...bffs: RunningBff[]): this {
    for (const bff of bffs) if (!this.bffs.includes(bff)) this.bffs.push(bff);
    return this;
  }

  /** Keeps a stopped BFF's log lines for the final scan. */
  retire(bff: RunningBff): void {
    const i = this.bffs.indexOf(bff);
    if (i >= 0) this.bffs.splice(i, 1);
    this.retiredLogs.push(...bff.logs);
  }

  /** rawRequest (byte-exact request-target, any header) with the response recorded. */
  async raw(bff: RunningBff, target: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
    const res = await rawRequest(bff.origin, target, opts);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
    this.record({ label: `${opts.method ?? 'GET'} ${bff.origin}${target}`, status: res.status, headers, body: res.body }, bff);
    return res;
  }

  /** Records a response received some other way (e.g. over a raw socket). */
  record(entry: RecordedResponse, bff?: RunningBff): void {
    this.responses.push(entry);
    const setCookies = entry.headers.filter(([n]) => n === 'set-cookie').map(([, v]) => v);
    if (setCookies.length) for (const b of bff ? [bff] : this.bffs) this.harvest(b, setCookies);
  }

  /** Adds every token sealed in `setCookies` (or a Cookie header) for `bff` to the watch list. */
  harvest(bff: RunningBff, setCookies: string[] | string): void {
    const header = typeof setCookies === 'string' ? setCookies : applySetCookies('', setCookies);
    const config = loadConfig({
      PUBLIC_ORIGIN: bff.origin, OIDC_ISSUER: 'http://127.0.0.1:1', OIDC_CLIENT_ID: 'demo-bff', OIDC_CLIENT_SECRET: 'x',
      COOKIE_KEYS: bff.cookieKeys, API_ROUTES: '/api=http://127.0.0.1:1',
    });
    const cookies = new SessionCookies(config);
    const jar = new CookieJar(header);
    for (const kind of ['at', 'rt', 'id'] as const) {
      const opened = cookies.open(jar, kind);
      if (opened.status === 'ok' && opened.value.v.length >= 16) this.tokens.add(opened.value.v);
    }
  }

  private recordFetch(label: string, res: Response): void {
    const headers: Array<[string, string]> = [];
    res.headers.forEach((v, n) => { if (n !== 'set-cookie') headers.push([n, v]); });
    for (const line of res.headers.getSetCookie()) headers.push(['set-cookie', line]);
    const entry: RecordedResponse = { label, status: res.status, headers, body: '' };
    this.record(entry);
    // The clone is read in the background so tests keep their own stream; a stream still open at
    // the end (SSE, a cut connection) is scanned as far as it got.
    const clone = res.clone();
    this.pending.push((async () => {
      const reader = clone.body?.getReader();
      if (!reader) return;
      const decoder = new TextDecoder();
      const deadline = Date.now() + 60_000;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          entry.body += decoder.decode(value, { stream: true });
          if (Date.now() > deadline) break;
        }
      } catch { /* cut mid-body: keep what arrived */ } finally {
        reader.cancel().catch(() => {});
      }
    })());
  }

  /** Every violation found; an empty list is the pass condition. */
  async findings(): Promise<string[]> {
    await Promise.race([Promise.all(this.pending), new Promise((r) => setTimeout(r, BODY_READ_TIMEOUT_MS))]);
    const out: string[] = [];
    for (const r of this.responses) {
      const setsCookie = r.headers.some(([n]) => n === 'set-cookie');
      const cacheControl = r.headers.filter(([n]) => n === 'cache-control').map(([, v]) => v).join(',');
      if (setsCookie && !/\bno-store\b/.test(cacheControl)) out.push(`Set-Cookie without no-store: ${r.status} ${r.label}`);
    }
    const needles = [...this.tokens].flatMap((t) => {
      const parts = t.split('.');
      // A JWT's signature alone identifies it; a truncated log of the token would still carry it.
      return parts.length === 3 && parts[2]!.length >= 16 ? [t, parts[2]!] : [t];
    });
    for (const needle of needles) {
      for (const r of this.responses) {
        if (r.body.includes(needle) && !isSampleApiEcho(r)) out.push(`token in the body of ${r.status} ${r.label}`);
        for (const [n, v] of r.headers) if (v.includes(needle)) out.push(`token in header ${n} of ${r.status} ${r.label}`);
      }
      for (const line of [...this.retiredLogs, ...this.bffs.flatMap((b) => b.logs)]) {
        if (line.includes(needle)) out.push(`token in a BFF log line: ${line.slice(0, 120)}`);
      }
    }
    return out;
  }
}
