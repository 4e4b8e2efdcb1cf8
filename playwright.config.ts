// Browser suite: a real Chromium against the real local stack (identity server on 127.0.0.1, BFF on
// localhost: two different sites, as in production). Uses Playwright's own browser where installed,
// otherwise Debian's /usr/bin/chromium.
import { existsSync } from 'node:fs';
import { chromium, defineConfig } from '@playwright/test';

function browserExecutable(): string | undefined {
  if (existsSync(chromium.executablePath())) return undefined; // Playwright's own download
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (existsSync(p)) return p;
  return undefined;
}

// Overridable so that several checkouts can run the browser suite at once.
export const E2E_PORTS = {
  bff: Number(process.env.E2E_BFF_PORT ?? 3100),
  idp: Number(process.env.E2E_IDP_PORT ?? 4100),
  api: Number(process.env.E2E_API_PORT ?? 4101),
};
const ORIGIN = `http://localhost:${E2E_PORTS.bff}`;

export default defineConfig({
  testDir: 'e2e/browser',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [['list'], ['json', { outputFile: 'reports/playwright.json' }]] : 'list',
  use: {
    baseURL: ORIGIN,
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: browserExecutable(),
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
        // Tests never leave the machine: every host but the loopback ones fails to resolve.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: 'npx tsx scripts/demo.ts',
    url: `${ORIGIN}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    env: {
      PORT: String(E2E_PORTS.bff),
      IDP_PORT: String(E2E_PORTS.idp),
      API_PORT: String(E2E_PORTS.api),
      DEMO_SKIP_BUILD: '1',
    },
  },
});
