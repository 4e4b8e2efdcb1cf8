// Start-up validation shared by `next start` (instrumentation.ts) and the Node server entry.
import { ConfigError, getConfig, type Config } from './config';
import { setLogLevel } from './log';

/** Loads the configuration or stops the process with one message naming every bad variable. */
export function validateAtStartup(): Config {
  try {
    const config = getConfig();
    setLogLevel(config.logLevel);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`next-token-handler: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
