// GET /oauth-agent/session: same-origin request.
import { agentRoute } from '@/lib/oauth-agent/agent-route';
import { getSession } from '@/lib/oauth-agent/session-status';

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ GET: getSession }, {});
