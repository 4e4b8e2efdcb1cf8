// The bench's variants: which server each one starts, and the requests the load generator sends.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ServerSpec } from './processes';

export const ROOT = resolve(import.meta.dirname, '../..');
const NEXT_BIN = resolve(ROOT, 'node_modules/next/dist/bin/next');

export const VARIANTS = [
  'direct', 'nginx', 'bare-undici', 'bare-hpm', 'bare-next-rewrite', 'bare-next-fetch', 'ours-node', 'ours-node-without-next', 'ours-node-store', 'ours-next', 'peer-next-auth',
] as const;
export type Variant = (typeof VARIANTS)[number];

/** Which bench-only Next app a variant runs (built under bench/apps/<name>/.next). */
export const BENCH_APPS: Partial<Record<Variant, string>> = {
  'bare-next-rewrite': 'bare-next-rewrite',
  'bare-next-fetch': 'bare-next-fetch',
  'peer-next-auth': 'peer-next-auth',
};

export type Auth = 'none' | 'ours' | 'next-auth';

export interface BenchCase {
  variant: Variant;
  method: 'GET' | 'POST';
  auth: Auth;
}

/** GET of a small JSON everywhere; POST of a 10 KB body where a like-for-like comparison needs it. */
export const CASES: BenchCase[] = [
  { variant: 'direct', method: 'GET', auth: 'none' },
  { variant: 'direct', method: 'POST', auth: 'none' },
  // The floor: nginx with a keep-alive proxy_pass to the same upstream (only where /usr/sbin/nginx exists).
  { variant: 'nginx', method: 'GET', auth: 'none' },
  { variant: 'nginx', method: 'POST', auth: 'none' },
  // The same minimal no-auth proxy on undici's Pool, the library the Node transport forwards with.
  { variant: 'bare-undici', method: 'GET', auth: 'none' },
  { variant: 'bare-undici', method: 'POST', auth: 'none' },
  { variant: 'bare-hpm', method: 'GET', auth: 'none' },
  { variant: 'bare-hpm', method: 'POST', auth: 'none' },
  { variant: 'bare-next-rewrite', method: 'GET', auth: 'none' },
  { variant: 'bare-next-fetch', method: 'GET', auth: 'none' },
  { variant: 'bare-next-fetch', method: 'POST', auth: 'none' },
  { variant: 'ours-node', method: 'GET', auth: 'ours' },
  { variant: 'ours-node', method: 'POST', auth: 'ours' },
  // Bench-only: the same /api/* path with no Next in the process, to price Next's presence.
  { variant: 'ours-node-without-next', method: 'GET', auth: 'ours' },
  { variant: 'ours-node-without-next', method: 'POST', auth: 'ours' },
  // ours-node with SESSION_STORE_URL: a token that is not due must cost no store round trip (docs/contract.md §6).
  { variant: 'ours-node-store', method: 'GET', auth: 'ours' },
  { variant: 'ours-node-store', method: 'POST', auth: 'ours' },
  { variant: 'ours-next', method: 'GET', auth: 'ours' },
  { variant: 'ours-next', method: 'POST', auth: 'ours' },
  { variant: 'peer-next-auth', method: 'GET', auth: 'next-auth' },
];

export const POST_BYTES = 10 * 1024;

/** A JSON document of exactly POST_BYTES bytes. */
export function postBody(): string {
  const head = '{"data":"';
  const tail = '"}';
  return head + 'x'.repeat(POST_BYTES - head.length - tail.length) + tail;
}

export const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
  NODE_ENV: 'production',
  NEXT_TELEMETRY_DISABLED: '1',
});

/** Environment of our BFF (docs/contract.md §4) on `port`: warn-level logs, so logging is not what is measured. */
export function oursEnv(port: number, issuer: string, upstream: string, cookieKeys: string): Record<string, string> {
  return {
    ...baseEnv(),
    PUBLIC_ORIGIN: `http://localhost:${port}`,
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: 'demo-bff',
    OIDC_CLIENT_SECRET: 'demo-bff-secret',
    COOKIE_KEYS: cookieKeys,
    API_ROUTES: `/api=${upstream}`,
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
}

export const upstreamSpec = (port: number): ServerSpec => ({
  name: 'upstream', command: process.execPath, args: [resolve(ROOT, 'bench/.build/upstream.mjs'), String(port)], cwd: ROOT, env: baseEnv(), port,
});

export const nodeEntrySpec = (name: string, port: number, env: Record<string, string>): ServerSpec => ({
  name, command: process.execPath, args: ['dist/server.mjs'], cwd: ROOT, env, port,
});

export const nextStartSpec = (name: string, cwd: string, port: number, env: Record<string, string>): ServerSpec => ({
  name, command: process.execPath, args: [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], cwd, env, port,
});

export interface ServerContext {
  port: number;
  upstream: string;
  issuer: string;
  cookieKeys: string;
  nextAuthSecret: string;
  /** Extra `node` flags for the proxies (e.g. --cpu-prof), from `--cpu-prof <dir>`. */
  nodeFlags: string[];
  /** The bench's redis-server, for `ours-node-store`. */
  storeUrl?: string;
}

/** Entries compiled by compileBenchServer before anything starts. */
export const BENCH_SERVER_SOURCES = ['bench/upstream.ts', 'bench/servers/bare-hpm.ts', 'bench/servers/bare-undici.ts', 'bench/servers/ours-node-without-next.ts'];

export const NGINX = '/usr/sbin/nginx';

/** The process a variant starts (`direct` starts none: it is the upstream itself). */
export function serverSpec(variant: Variant, ctx: ServerContext): ServerSpec | undefined {
  const spec = baseServerSpec(variant, ctx);
  if (!spec || spec.command !== process.execPath) return spec;
  return { ...spec, args: [...ctx.nodeFlags, ...spec.args] };
}

function baseServerSpec(variant: Variant, ctx: ServerContext): ServerSpec | undefined {
  const benchEnv = { ...baseEnv(), BENCH_UPSTREAM: ctx.upstream };
  switch (variant) {
    case 'direct': return undefined;
    case 'nginx':
      return existsSync(NGINX) ? nginxSpec(ctx.port, ctx.upstream) : undefined;
    case 'bare-undici':
      return { name: variant, command: process.execPath, args: [resolve(ROOT, 'bench/.build/servers/bare-undici.mjs'), String(ctx.port)], cwd: ROOT, env: benchEnv, port: ctx.port };
    case 'bare-hpm':
      return { name: variant, command: process.execPath, args: [resolve(ROOT, 'bench/.build/servers/bare-hpm.mjs'), String(ctx.port)], cwd: ROOT, env: benchEnv, port: ctx.port };
    case 'ours-node':
      return nodeEntrySpec(variant, ctx.port, oursEnv(ctx.port, ctx.issuer, ctx.upstream, ctx.cookieKeys));
    case 'ours-node-store':
      return nodeEntrySpec(variant, ctx.port, { ...oursEnv(ctx.port, ctx.issuer, ctx.upstream, ctx.cookieKeys), SESSION_STORE_URL: ctx.storeUrl! });
    case 'ours-node-without-next':
      return { name: variant, command: process.execPath, args: [resolve(ROOT, 'bench/.build/servers/ours-node-without-next.mjs')], cwd: ROOT,
        env: oursEnv(ctx.port, ctx.issuer, ctx.upstream, ctx.cookieKeys), port: ctx.port };
    case 'ours-next':
      return nextStartSpec(variant, ROOT, ctx.port, oursEnv(ctx.port, ctx.issuer, ctx.upstream, ctx.cookieKeys));
    case 'peer-next-auth':
      return nextStartSpec(variant, resolve(ROOT, 'bench/apps', BENCH_APPS[variant]!), ctx.port, { ...benchEnv, NEXTAUTH_SECRET: ctx.nextAuthSecret });
    default:
      return nextStartSpec(variant, resolve(ROOT, 'bench/apps', BENCH_APPS[variant]!), ctx.port, benchEnv);
  }
}

/** nginx in the foreground, one worker, a keep-alive upstream block: the cheapest proxy this machine has. */
function nginxSpec(port: number, upstream: string): ServerSpec {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream api { server ${new URL(upstream).host}; keepalive 256; }
  server {
    listen 127.0.0.1:${port} reuseport;
    location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
    location /api/ {
      proxy_pass http://api/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`);
  return { name: 'nginx', command: NGINX, args: ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], cwd: dir, env: baseEnv(), port };
}
