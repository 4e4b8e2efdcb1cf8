// Start-up validation shared by `next start` (instrumentation.ts) and the Node server entry.
import { ConfigError, getConfig, type Config } from './config';
import { setLogLevel } from './log';
import { getSessionDenylist } from './revocation/default-denylist';
import { getSessionStore } from './store/redis-client';
import { sendsStrictTransportSecurity } from './security/security-headers.mjs';

export interface StartupChecks {
  /** The Node server entry sets the security headers per request; `next start` relies on the build's. */
  transport?: 'node';
  /** Whether the build's headers() send Strict-Transport-Security (next.config.js, TH_BUILD_HSTS). */
  hstsInBuild?: boolean;
}

// The Node server entry marks the process before Next starts; instrumentation.ts, run by Next in the
// same process, reads the same module (lib/ loads once per process).
let transport: 'node' | undefined;

/** Loads the configuration or stops the process with one message naming every bad variable. */
export function validateAtStartup(checks: StartupChecks = {}): Config {
  if (checks.transport) transport = checks.transport;
  try {
    const config = getConfig();
    // With APPS (contract §8) every app's origin must fit the build.
    const hsts = checks.hstsInBuild === undefined ? []
      : [...new Set((config.apps ?? [config]).map((c) => c.publicOrigin))]
        .map((origin) => checkBuildStrictTransportSecurity(origin, checks.hstsInBuild!, transport))
        .filter((p): p is string => p !== undefined);
    if (hsts.length > 0) throw new ConfigError(hsts);
    setLogLevel(config.logLevel);
    // Connect now (in the background): /readyz reports it, and an outage is logged at start-up.
    getSessionStore(config);
    // With a store, the shared denylist subscribes and loads the revocations already made (docs/contract.md §7).
    getSessionDenylist();
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`next-token-handler: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** Whether the Node server entry runs this process (it starts the metrics listener and tracing itself). */
export const isNodeEntryProcess = (): boolean => transport === 'node';

/**
 * RFC 6797 §7.2: Strict-Transport-Security on every https response and never over http. The build's
 * headers() fixed it from the PUBLIC_ORIGIN seen by `next build`; a different scheme at run time
 * would either send it over http or silently leave an https site without it.
 */
export function checkBuildStrictTransportSecurity(publicOrigin: string, hstsInBuild: boolean, transport: 'node' | undefined): string | undefined {
  const https = sendsStrictTransportSecurity(publicOrigin);
  if (hstsInBuild && !https) {
    return `PUBLIC_ORIGIN is ${publicOrigin}, but this build sends Strict-Transport-Security (it was built with an https PUBLIC_ORIGIN), which must never be sent over http: rebuild with PUBLIC_ORIGIN=${publicOrigin} npm run build`;
  }
  // The Node server entry adds the header itself at run time; only `next start` (and Vercel) depend on the build.
  if (!hstsInBuild && https && transport !== 'node') {
    return `PUBLIC_ORIGIN is ${publicOrigin}, but this build was made without an https PUBLIC_ORIGIN, so \`next start\` would not send Strict-Transport-Security: rebuild with PUBLIC_ORIGIN=${publicOrigin} npm run build (or run the Node server entry, npm start, which sets it at run time)`;
  }
  return undefined;
}
