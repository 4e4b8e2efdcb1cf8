// Next.js configuration: only what the token handler needs, nothing that widens the attack surface.
// A function of the phase (Next passes it) so that only `next build` emits the standalone output:
// `next start` would otherwise warn on every start although it runs the same build fine.

import { AGENT_PATH, API_PATH, NEXT_ASSETS_PATH, PROBE_PATHS, RESERVED_SOURCE_PATTERN } from './lib/reserved-paths.mjs';
import { securityHeadersFor, sendsStrictTransportSecurity } from './lib/security/security-headers.mjs';

// headers() is fixed at build time, while PUBLIC_ORIGIN is read at run time. So `next start` and
// Vercel send Strict-Transport-Security exactly when the build saw an https PUBLIC_ORIGIN (RFC 6797
// §7.2: never over http); instrumentation.ts refuses to start when the run-time PUBLIC_ORIGIN's
// scheme disagrees. The Node server entry sets the same headers per request from the run-time value.
const BUILD_PUBLIC_ORIGIN = process.env.PUBLIC_ORIGIN;

// Sent on every response Next produces (pages, static files, agent and API JSON, 404s).
const SECURITY_HEADERS = securityHeadersFor(BUILD_PUBLIC_ORIGIN).map(([key, value]) => ({ key, value }));

// Paths whose Cache-Control belongs to their owner: the agent and proxy set no-store themselves,
// and Next's own /_next/* assets carry their build hash and Next's immutable caching.
const OWN_CACHE_CONTROL = RESERVED_SOURCE_PATTERN;

// A fingerprinted asset under /assets/: `<name>-<hash>.<ext>` as Vite/Rollup emit it, the hash being
// 8+ base64url characters with at least one digit (so `app-settings.css` is not taken for a hash).
const FINGERPRINTED_ASSET = '/assets/:file([^/]*-(?=[A-Za-z_-]*[0-9])[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9]+)';

// A first path segment that can be an app's base path (lib/apps/load-apps.ts refuses the others).
const APP_SEGMENT = `(?!${[NEXT_ASSETS_PATH, API_PATH, AGENT_PATH, ...PROBE_PATHS].map((p) => `${p.slice(1)}$`).join('|')})[A-Za-z0-9][A-Za-z0-9_~-]*`;
// Under an app's base path, its proxy and agent (proxy.ts answers them) are never the SPA's.
const APP_RESERVED = [API_PATH, AGENT_PATH].map((p) => `${p.slice(1)}(?:/|$)`).join('|');

/** @param {string} phase */
export default function nextConfig(phase) {
  /** @type {import('next').NextConfig} */
  const config = {
    poweredByHeader: false,
    // Inlined at build time, read by instrumentation.ts to check the build against PUBLIC_ORIGIN.
    env: { TH_BUILD_HSTS: sendsStrictTransportSecurity(BUILD_PUBLIC_ORIGIN) ? 'on' : 'off' },
    // Compression is left to the CDN / reverse proxy: Next gzips SSE and then buffers the whole
    // stream (measured, docs/architecture.md), which would break streamed API responses.
    compress: false,
    reactStrictMode: true,
    // Loaded from node_modules at run time, not bundled: the Node server entry and Next's bundles then
    // share one prom-client registry per process (one /metrics for agent and proxy), and the
    // OpenTelemetry SDK's exporters keep their own module layout.
    serverExternalPackages: ['prom-client', '@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/resources',
      '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-trace-otlp-proto'],
    // /_next/image would fetch and re-encode URLs on request: unoptimized makes it answer 404.
    images: { unoptimized: true },
    // The container ships .next/standalone (traced node_modules only); see README "Deploy".
    ...(phase === 'phase-production-build' ? { output: 'standalone' } : {}),
    async headers() {
      return [
        { source: '/:path*', headers: SECURITY_HEADERS },
        // index.html (also when served for a client-side route) and every unhashed file: revalidate
        // on each use, so a deployment is picked up at once.
        { source: `/:path((?!${OWN_CACHE_CONTROL}).*)`, headers: [{ key: 'Cache-Control', value: 'no-cache' }] },
        // Later rules win: a fingerprinted file never changes under its name.
        { source: FINGERPRINTED_ASSET, headers: [{ key: 'Cache-Control', value: 'public, max-age=31536000, immutable' }] },
      ];
    },
    async rewrites() {
      return {
        // SPA fallback: paths without a dot that no file, route or proxy answers get index.html.
        // /api/*, /oauth-agent/* and Next's /_next/* are never rewritten (they must fail closed).
        // Several SPAs (README "Several SPAs on one deployment"): a client route under a one-segment
        // base path gets public/<base>/index.html when that file exists; otherwise the last rule (which
        // also takes the rewritten .../index.html) gives the root SPA's, exactly as without APPS.
        fallback: [
          { source: `/:base(${APP_SEGMENT})/:path((?!${APP_RESERVED})[^.]*)`, destination: '/:base/index.html' },
          { source: `/:base(${APP_SEGMENT})`, destination: '/:base/index.html' },
          { source: `/:path((?!${RESERVED_SOURCE_PATTERN})(?:[^.]*|[^.]*/index\\.html))`, destination: '/index.html' },
        ],
      };
    },
  };
  return config;
}
