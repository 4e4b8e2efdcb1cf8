// POST /oauth-agent/login/start: trusted origin.
import { agentRoute } from '@/lib/oauth-agent/agent-route';
import { startLogin } from '@/lib/oauth-agent/start-login';

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ POST: startLogin }, {});
