// GET /oauth-agent/userInfo: same-origin request, session.
import { agentRoute } from '@/lib/oauth-agent/agent-route';
import { getUserInfo } from '@/lib/oauth-agent/user-info';

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ GET: getUserInfo }, { session: true });
