// The request a piece of code runs for, without passing it down every call: its id (for every log
// line, docs/contract.md §9) and its server span (the parent of identity-server client spans). One
// AsyncLocalStorage; Next.js already keeps its own per request, so the async-context bookkeeping is
// paid in this process anyway.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  readonly requestId: string;
  /** The request's server span, when tracing is on (opaque here: lib/observability/tracing.ts owns it). */
  readonly span?: unknown;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
