// Structured JSON logs, one line per event. Callers pass event names from one catalogue
// (README "Logs") and plain fields; values of secret-looking keys are dropped as a last line of defence.
import type { LogLevel } from './config';
import { currentRequestContext } from './observability/request-context';
import { nowMs } from './clock';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
// ASVS 5.0 V16.2.5: tokens, cookies and credentials never reach a log line.
const SECRET_KEY = /token|cookie|secret|password|authorization|verifier|csrf|set-cookie|jwt/i;
// `code` is the contract's error code on request_rejected and login_failed (README "Logs"); an OAuth
// authorization code (RFC 6749 §4.1.2: random, mixed case) under that name is still dropped.
const ERROR_CODE = /^[a-z][a-z_]{0,63}$/;
const isSecretField = (key: string, value: unknown) =>
  SECRET_KEY.test(key) || (key.toLowerCase() === 'code' && !(typeof value === 'string' && ERROR_CODE.test(value)));

let processLevel: LogLevel = 'info';

export function setLogLevel(level: LogLevel): void {
  processLevel = level;
}

/** Whether `level` is written; lets a hot path skip building the fields of a line nobody will see. */
export function isLogged(level: LogLevel): boolean {
  return RANK[level] >= RANK[processLevel];
}

export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  if (!isLogged(level)) return;
  // Contract §9: every line written while serving a request carries that request's X-Request-Id.
  const requestId = currentRequestContext()?.requestId;
  const line = JSON.stringify({ time: new Date(nowMs()).toISOString(), level, event, ...(requestId ? { requestId } : {}), ...scrub(fields) });
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line + '\n');
}

function scrub(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (isSecretField(k, v)) continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? scrub(v as Record<string, unknown>) : v;
  }
  return out;
}
