// Shared Next.js configuration of the bench-only apps: built from their own directory with the
// repository's node_modules, and configured like the product (no compression, no powered-by).
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** @type {import('next').NextConfig} */
export const benchNextConfig = {
  poweredByHeader: false,
  compress: false,
  // The apps live inside the repository; Turbopack and output tracing must see its node_modules.
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // The root `tsc --noEmit` type-checks these files; the bench build only needs to compile them.
  typescript: { ignoreBuildErrors: true },
};
