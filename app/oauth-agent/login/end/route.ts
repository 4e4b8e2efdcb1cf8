// POST /oauth-agent/login/end: trusted origin.
import { agentRoute } from '@/lib/oauth-agent/agent-route';
import { endLogin } from '@/lib/oauth-agent/end-login';

export const dynamic = 'force-dynamic';
export const { GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS } = agentRoute({ POST: endLogin }, {});
