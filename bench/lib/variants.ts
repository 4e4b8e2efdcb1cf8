// The bench's variants: which server each one starts, and the requests the load generator sends.
import { resolve } from 'node:path';
import type { ServerSpec } from './processes';

export const ROOT = resolve(import.meta.dirname, '../..');
const NEXT_BIN = resolve(ROOT, 'node_modules/next/dist/bin/next');

export const VARIANTS = [
  'direct', 'bare-hpm', 'bare-next-rewrite', 'bare-next-fetch', 'ours-node', 'ours-node-without-next', 'ours-next', 'peer-next-auth',
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
}

/** Entries compiled by compileBenchServer before anything starts. */
export const BENCH_SERVER_SOURCES = ['bench/upstream.ts', 'bench/servers/bare-hpm.ts', 'bench/servers/ours-node-without-next.ts'];

/** The process a variant starts (`direct` starts none: it is the upstream itself). */
export function serverSpec(variant: Variant, ctx: ServerContext): ServerSpec | undefined {
  const spec = baseServerSpec(variant, ctx);
  return spec && { ...spec, args: [...ctx.nodeFlags, ...spec.args] };
}

function baseServerSpec(variant: Variant, ctx: ServerContext): ServerSpec | undefined {
  const benchEnv = { ...baseEnv(), BENCH_UPSTREAM: ctx.upstream };
  switch (variant) {
    case 'direct': return undefined;
    case 'bare-hpm':
      return { name: variant, command: process.execPath, args: [resolve(ROOT, 'bench/.build/servers/bare-hpm.mjs'), String(ctx.port)], cwd: ROOT, env: benchEnv, port: ctx.port };
    case 'ours-node':
      return nodeEntrySpec(variant, ctx.port, oursEnv(ctx.port, ctx.issuer, ctx.upstream, ctx.cookieKeys));
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
