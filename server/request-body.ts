// A browser's request body on its way upstream, as the chunks undici reads (an async iterable):
// MAX_BODY_BYTES is enforced in flight whatever the framing said, and the browser's request stream is
// never destroyed by the upstream side, so a 413 can still be delivered on its connection.
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError } from '@next-token-handler/lib/oauth-proxy/upstream-failure';

type Pending = { resolve: (r: IteratorResult<Buffer>) => void; reject: (err: Error) => void };

export class RequestBody implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  private received = 0;
  private readonly queue: Buffer[] = [];
  private pending: Pending | undefined;
  private ended = false;
  private error: Error | undefined;

  constructor(private readonly req: IncomingMessage, private readonly limit: number) {
    req.on('data', this.onData);
    req.once('end', this.onEnd);
    req.once('close', this.onClose);
  }

  /** Set when the body crossed MAX_BODY_BYTES: the reason the exchange failed, whatever undici reports. */
  get failure(): Error | undefined { return this.error instanceof BodyTooLargeError ? this.error : undefined; }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> { return this; }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.error) return Promise.reject(this.error);
    const chunk = this.queue.shift();
    if (chunk) return Promise.resolve({ done: false, value: chunk });
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    this.req.resume();
    return new Promise((resolve, reject) => { this.pending = { resolve, reject }; });
  }

  /** The exchange ended early: stop feeding the upstream; the browser's stream is left to the caller. */
  stop(err: Error): void {
    if (this.ended || this.error) return;
    this.fail(err);
  }

  private readonly onData = (chunk: Buffer) => {
    if (this.ended || this.error) return;
    this.received += chunk.length;
    if (this.received > this.limit) { this.fail(new BodyTooLargeError()); return; }
    const p = this.pending;
    if (p) { this.pending = undefined; p.resolve({ done: false, value: chunk }); return; }
    this.queue.push(chunk);
    this.req.pause(); // backpressure: the upstream asks for the next chunk when it has room
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.detach();
    const p = this.pending;
    if (p) { this.pending = undefined; p.resolve({ done: true, value: undefined }); }
  };

  // The browser went away before its body ended: the upstream must never see it as complete.
  private readonly onClose = () => { if (!this.ended) this.fail(new Error('the browser closed its request body')); };

  private fail(err: Error): void {
    this.error = err;
    this.queue.length = 0;
    this.detach();
    const p = this.pending;
    if (p) { this.pending = undefined; p.reject(err); }
  }

  private detach(): void {
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('close', this.onClose);
  }
}
