// Request targets that are not a path. Browsers always send origin-form; anything else comes from a
// tool or an intermediary forwarding verbatim, and Next would answer it with an off-origin redirect.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, toErrorResponse } from '@next-token-handler/lib/errors';
import { answerEarly } from './write-response';

/**
 * RFC 9112 §3.2: an origin server is sent origin-form targets (`/path`). Anything else (absolute-form
 * `http://evil.example/`, authority-form, `*`) would reach Next, which answers it with a redirect to
 * that foreign URL (CWE-601), so it is refused here.
 */
export function isForeignRequestTarget(url: string | undefined): boolean {
  return url === undefined || !url.startsWith('/');
}

export function refuseRequestTarget(req: IncomingMessage, res: ServerResponse): void {
  const response = toErrorResponse(badRequest('The request target must be a path'), { transport: 'node', method: req.method });
  answerEarly(req, res, response);
}
