/**
 * Test rig for the Twilio adapter: a real `ws` server on 127.0.0.1 whose connections are wrapped
 * in TwilioTransport, and a recorder of every TransportEvents call in order.
 */
import { once } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import type { CallStart, TransportEvents } from '../../../src/transports/transport.js';
import { TwilioTransport, type TwilioTransportOptions } from '../../../src/transports/twilio/adapter.js';
import type { MediaStreamTransport } from '../../../src/transports/media-stream/adapter.js';
import type { ErrorCode } from '../../../src/errors.js';

export type Recorded =
  | { type: 'start'; info: CallStart }
  | { type: 'audio'; bytes: Uint8Array; durationMs: number; sameBuffer: boolean }
  | { type: 'played'; epoch: number; ms: number }
  | { type: 'sentencePlayed'; epoch: number; sentenceId: number }
  | { type: 'dtmf'; digit: string }
  | { type: 'badInput'; code: ErrorCode }
  | { type: 'closed'; code: number; reason: string; error: ErrorCode | undefined };

export class Recorder {
  readonly log: Recorded[] = [];
  private lastAudioBuffer: ArrayBufferLike | undefined;
  private readonly waiters = new Set<() => void>();

  readonly events: TransportEvents = {
    start: (info) => this.push({ type: 'start', info }),
    audio: (bytes, durationMs) => {
      const sameBuffer = this.lastAudioBuffer === bytes.buffer;
      this.lastAudioBuffer = bytes.buffer;
      this.push({ type: 'audio', bytes: bytes.slice(), durationMs, sameBuffer });
    },
    played: (epoch, ms) => this.push({ type: 'played', epoch, ms }),
    sentencePlayed: (epoch, sentenceId) => this.push({ type: 'sentencePlayed', epoch, sentenceId }),
    dtmf: (digit) => this.push({ type: 'dtmf', digit }),
    badInput: (error) => this.push({ type: 'badInput', code: error.code }),
    closed: (code, reason, error) => this.push({ type: 'closed', code, reason, error: error?.code }),
  };

  of<T extends Recorded['type']>(type: T): Array<Extract<Recorded, { type: T }>> {
    return this.log.filter((r): r is Extract<Recorded, { type: T }> => r.type === type);
  }

  /** Resolves when `check()` holds, re-checked on every event; rejects after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(poll);
        reject(new Error(`recorder: ${what} not met within ${timeoutMs} ms; log: ${JSON.stringify(this.log.map((r) => r.type).slice(-20))}`));
      }, timeoutMs);
      const poll = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(poll);
        resolve();
      };
      this.waiters.add(poll);
    });
  }

  private push(entry: Recorded): void {
    this.log.push(entry);
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface Rig<T extends MediaStreamTransport = TwilioTransport> {
  readonly url: string;
  /** The next connection, wrapped and (unless `attach` is false) attached to a new Recorder. */
  next(options?: TwilioTransportOptions & { attach?: boolean }): Promise<{ transport: T; recorder: Recorder; ws: WebSocket }>;
  close(): void;
}

/** A rig whose connections are TwilioTransports. */
export function rig(): Promise<Rig> {
  return rigOf((ws, options) => new TwilioTransport(ws, options));
}

/** A rig whose connections are wrapped by `create` (any media-stream dialect). */
export async function rigOf<T extends MediaStreamTransport>(create: (ws: WebSocket, options: TwilioTransportOptions) => T): Promise<Rig<T>> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/twilio/media`,
    async next(options = {}) {
      const [ws] = (await once(wss, 'connection')) as [WebSocket];
      const transport = create(ws, options);
      const recorder = new Recorder();
      if (options.attach !== false) transport.attach(recorder.events);
      return { transport, recorder, ws };
    },
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

/** μ-law bytes for `ms` of audio (8 per ms), with a recognisable value. */
export function ulaw(ms: number, value = 0x55): Uint8Array {
  return new Uint8Array(ms * 8).fill(value);
}
