// Runs once when the Next.js server starts (under `next start` and inside the Node server entry): a
// misconfigured server refuses to start instead of failing on the first request (docs/architecture.md,
// house style 4), and a build whose Strict-Transport-Security does not fit PUBLIC_ORIGIN never serves.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { isNodeEntryProcess, validateAtStartup } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/startup');
    // Not the environment: next.config.js `env` inlines this constant at build time.
    const config = validateAtStartup({ hstsInBuild: process.env.TH_BUILD_HSTS === 'on' });
    // Metrics listener and tracing, once per process: the Node server entry starts its own.
    if (!isNodeEntryProcess()) await (await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@next-token-handler/lib/observability/start-observability')).startObservability(config);
  }
}
