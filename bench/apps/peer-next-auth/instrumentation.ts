// Deliberately empty: without it, Next (with turbopack.root at the repository root) picks up the
// product's instrumentation.ts, which refuses to start without the product's configuration.
export function register(): void {}
