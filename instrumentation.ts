// Runs once when the Next.js server starts (under `next start` and inside the Node server entry): a
// misconfigured server refuses to start instead of failing on the first request (docs/architecture.md,
// house style 4), and a build whose Strict-Transport-Security does not fit PUBLIC_ORIGIN never serves.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { validateAtStartup } = await import('./lib/startup');
    // Not the environment: next.config.js `env` inlines this constant at build time.
    validateAtStartup({ hstsInBuild: process.env.TH_BUILD_HSTS === 'on' });
  }
}
