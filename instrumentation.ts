// Runs once when the Next.js server starts: a misconfigured server refuses to start instead of
// failing on the first request (architecture.md, house style 4).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { validateAtStartup } = await import('./lib/startup');
    validateAtStartup();
  }
}
