/**
 * A synchronous stand-in for a server-side `ws` socket, for property tests of adapters: it records
 * what the adapter sends, in order, and delivers messages to it at once. Real sockets are used
 * everywhere else; this exists so thousands of random interleavings run in a second.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';

export type Sent = { readonly text: string } | { readonly binary: Uint8Array };

export class StubSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  binaryType = 'nodebuffer';
  bufferedAmount = 0;
  readonly sent: Sent[] = [];

  /** The stub as the `ws` type the adapters take (they use only the members above). */
  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }

  pause(): void {}
  resume(): void {}

  send(data: string | Uint8Array, ...rest: unknown[]): void {
    this.sent.push(typeof data === 'string' ? { text: data } : { binary: Uint8Array.from(data) });
    const cb = rest.at(-1);
    if (typeof cb === 'function') (cb as () => void)();
  }

  close(code: number, reason: string): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.emit('close', code, Buffer.from(reason));
  }

  terminate(): void {
    this.close(1006, '');
  }

  /** Delivers a message from the peer. */
  deliver(data: string | Uint8Array): void {
    if (typeof data === 'string') this.emit('message', Buffer.from(data), false);
    else this.emit('message', Buffer.from(data), true);
  }

  /** Takes the messages sent so far. */
  drain(): Sent[] {
    return this.sent.splice(0);
  }
}
