/**
 * A real `ws` server on 127.0.0.1 whose connections become BrowserTransports, each with a
 * recording session stand-in that keeps every event in order (bounded) and can wait for one.
 */
import { Conditions } from '../../helpers/conditions.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { BrowserTransport, type BrowserTransportOptions } from '../../../src/transports/browser/adapter.js';
import type { CallStart, TransportEvents } from '../../../src/transports/transport.js';
import type { ErrorCode } from '../../../src/errors.js';

export type Recorded =
  | { readonly kind: 'start'; readonly info: CallStart }
  | { readonly kind: 'audio'; readonly bytes: Uint8Array; readonly ms: number }
  | { readonly kind: 'played'; readonly epoch: number; readonly playedMs: number }
  | { readonly kind: 'sentencePlayed'; readonly epoch: number; readonly sentenceId: number }
  | { readonly kind: 'dtmf'; readonly digit: string }
  | { readonly kind: 'badInput'; readonly code: ErrorCode }
  | { readonly kind: 'closed'; readonly code: number; readonly reason: string; readonly errorCode: ErrorCode | undefined };

const MAX_RECORDED = 10_000;

export class RecordingSession {
  readonly events: Recorded[] = [];
  private readonly conditions = new Conditions('recording session');

  readonly handlers: TransportEvents = {
    start: (info) => this.record({ kind: 'start', info }),
    audio: (bytes, ms) => this.record({ kind: 'audio', bytes: bytes.slice(), ms }),
    played: (epoch, playedMs) => this.record({ kind: 'played', epoch, playedMs }),
    sentencePlayed: (epoch, sentenceId) => this.record({ kind: 'sentencePlayed', epoch, sentenceId }),
    dtmf: (digit) => this.record({ kind: 'dtmf', digit }),
    badInput: (error) => this.record({ kind: 'badInput', code: error.code }),
    closed: (code, reason, error) => this.record({ kind: 'closed', code, reason, errorCode: error?.code }),
  };

  of<K extends Recorded['kind']>(kind: K): Array<Extract<Recorded, { kind: K }>> {
    return this.events.filter((e): e is Extract<Recorded, { kind: K }> => e.kind === kind);
  }

  /** Resolves once `check()` holds (re-checked on every event); rejects at the deadline. */
  async until(check: () => boolean, timeoutMs = 3_000, what = 'event'): Promise<void> {
    try {
      await this.conditions.until(check, timeoutMs, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}; saw ${this.events.map((e) => e.kind).join(',')}`);
    }
  }

  private record(event: Recorded): void {
    this.events.push(event);
    if (this.events.length > MAX_RECORDED) this.events.shift();
    this.conditions.notify();
  }
}

export interface Connection {
  readonly transport: BrowserTransport;
  readonly session: RecordingSession;
  readonly socket: WebSocket;
}

export class Harness {
  readonly url: string;
  private readonly connections: Connection[] = [];
  private readonly arrivals = new Conditions('browser harness');

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    port: number,
  ) {
    this.url = `ws://127.0.0.1:${port}/browser`;
  }

  static async start(options: BrowserTransportOptions = {}, attach: 'now' | 'manual' = 'now'): Promise<Harness> {
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const harness = new Harness(server, wss, (server.address() as AddressInfo).port);
    wss.on('connection', (socket) => {
      const transport = new BrowserTransport(socket, options);
      const session = new RecordingSession();
      if (attach === 'now') transport.attach(session.handlers);
      harness.connections.push({ transport, session, socket });
      harness.arrivals.notify();
    });
    return harness;
  }

  /** The n-th connection (0-based), waiting for it to arrive. */
  async connection(n = 0, timeoutMs = 3_000): Promise<Connection> {
    await this.arrivals.until(() => this.connections[n] !== undefined, timeoutMs, `connection ${n}`);
    return this.connections[n]!;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw client socket (for malformed input), opened. */
export async function rawClient(url: string): Promise<{ ws: WebSocket; received: Array<{ text?: string; binary?: Uint8Array }>; next: (timeoutMs?: number) => Promise<{ text?: string; binary?: Uint8Array }>; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const received: Array<{ text?: string; binary?: Uint8Array }> = [];
  let read = 0;
  let wake: (() => void) | undefined;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    received.push(isBinary ? { binary: new Uint8Array(data) } : { text: data.toString('utf8') });
    wake?.();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => {
    resolve({ code, reason: reason.toString('utf8') });
    wake?.();
  }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async (timeoutMs = 3_000): Promise<{ text?: string; binary?: Uint8Array }> => {
    const deadline = Date.now() + timeoutMs;
    while (read >= received.length) {
      if (ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting for a message');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no message within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, remaining);
      });
      clearTimeout(timer);
      wake = undefined;
    }
    return received[read++]!;
  };
  return { ws, received, next, closed };
}
