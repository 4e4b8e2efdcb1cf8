// Next.js configuration: only what the token handler needs, nothing that widens the attack surface.
/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  // Compression is left to the CDN / reverse proxy: Next gzips SSE and then buffers the whole
  // stream (measured, architecture.md), which would break streamed API responses.
  compress: false,
  reactStrictMode: true,
  images: { unoptimized: true },
  async rewrites() {
    return {
      // SPA fallback: extension-less paths that no file, route or proxy answers get index.html.
      // /api/* is never rewritten (it must fail closed when no route matches).
      fallback: [
        { source: '/:path((?!api(?:/|$)|oauth-agent(?:/|$)|healthz$|readyz$)[^.]*)', destination: '/index.html' },
      ],
    };
  },
};

export default nextConfig;
