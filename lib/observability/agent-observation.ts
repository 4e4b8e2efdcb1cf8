// One OAuth Agent request seen from outside (docs/contract.md §9): its X-Request-Id (on the response and in
// every log line), its count in nth_requests_total{component="agent"} and its server span.
import { countAgentRequest } from './metrics';
import { runInRequestContext } from './request-context';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id';
import { agentEndpointName } from './route-label';
import { endSpanWithError, endSpanWithStatus, startServerSpan } from './tracing';

export async function observeAgentRequest(request: Request, serve: () => Promise<Response>): Promise<Response> {
  const requestId = requestIdFor(request.headers.get(REQUEST_ID_HEADER));
  const route = agentEndpointName(new URL(request.url).pathname);
  const span = startServerSpan(`${request.method} ${route}`, request.headers.get('traceparent'), {
    'http.request.method': request.method, 'http.route': route, 'nth.component': 'agent', 'nth.request_id': requestId,
  });
  let response: Response;
  try {
    response = await runInRequestContext({ requestId, span }, serve);
  } catch (err) {
    countAgentRequest(route, 500);
    endSpanWithError(span, 'exception');
    throw err;
  }
  response.headers.set(REQUEST_ID_HEADER, requestId);
  countAgentRequest(route, response.status);
  endSpanWithStatus(span, response.status);
  return response;
}
