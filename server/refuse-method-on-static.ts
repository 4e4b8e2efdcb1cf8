// Other methods than GET and HEAD on the SPA's paths. Only those two mean anything for public/ files
// and the index.html fallback; Next 16.4 answers POST/PUT/PATCH/DELETE, and OPTIONS too, there with a
// plain-text 500 (it looks for a pages-router /405 page an App-Router-only build lacks). The Node
// server answers first, with the contract's JSON 405, so a monitoring alert on 5xx means a real fault.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ThError, toErrorResponse } from '@next-token-handler/lib/errors';
import { isOwnMethodsPath } from '@next-token-handler/lib/reserved-paths';
import { answerEarly } from './write-response';

// The agent's route handlers answer their own methods (405 JSON included); /api/* is the proxy's.
const STATIC_METHODS = new Set(['GET', 'HEAD']);

export function isUnsupportedMethodOnStatic(method: string | undefined, url: string | undefined): boolean {
  return !STATIC_METHODS.has(method ?? 'GET') && !isOwnMethodsPath(url ?? '/');
}

/** RFC 9110 §15.5.6: 405 with the methods the resource does support in `Allow`. */
export function refuseMethodOnStatic(req: IncomingMessage, res: ServerResponse): void {
  const response = toErrorResponse(
    new ThError('method_not_allowed', 'This path only answers GET and HEAD', { headers: [['allow', 'GET, HEAD']] }),
    { transport: 'node', method: req.method, path: (req.url ?? '').split('?')[0] },
  );
  answerEarly(req, res, response);
}
