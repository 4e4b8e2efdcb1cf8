// Open WebSockets per session (Node transport), so that a revoked session's sockets are closed at
// once (docs/contract.md §7) rather than living on for as long as the connection lasts.
import { getSessionDenylist } from './default-denylist';
import type { RevocableSession, SessionDenylist } from './session-denylist';

export interface ClosableSocket {
  destroy(): void;
}

export class OpenSocketRegistry {
  private readonly sockets = new Map<ClosableSocket, RevocableSession>();
  private unsubscribe?: () => void;

  constructor(private readonly denylist: () => SessionDenylist) {}

  get size(): number {
    return this.sockets.size;
  }

  /** Tracks the socket until the returned function is called (on its 'close'). */
  register(socket: ClosableSocket, session: RevocableSession): () => void {
    this.unsubscribe ??= this.denylist().onRevoked(() => this.closeRevoked());
    this.sockets.set(socket, session);
    return () => { this.sockets.delete(socket); };
  }

  /**
   * Closes the sockets whose session has ended. The TCP connection is destroyed rather than sent a
   * close frame: the relayed upstream stream may be mid-frame, and an interleaved frame would corrupt it.
   */
  closeRevoked(): number {
    const denylist = this.denylist();
    let closed = 0;
    for (const [socket, session] of this.sockets) {
      if (!denylist.isRevoked(session)) continue;
      this.sockets.delete(socket);
      socket.destroy();
      closed += 1;
    }
    return closed;
  }
}

const registry = new OpenSocketRegistry(getSessionDenylist);

/** The process's registry: server/websocket-proxy.ts registers every relayed WebSocket here. */
export function registerOpenSocket(socket: ClosableSocket, session: RevocableSession): () => void {
  return registry.register(socket, session);
}
