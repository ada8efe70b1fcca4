/**
 * The mic path of VoicewireClient: captured frames become binary mic frames (seq per connection)
 * queued behind the socket's own buffer, oldest dropped when the uplink is slow. Frames captured
 * while no connection is ready are counted and dropped: the server has no epoch to put them in.
 */
import { encodeFrame, int16ToPcm, type WireRate } from '../../src/transports/browser/codec.js';
import { OutboundQueue } from './outbound-queue.js';

export interface MicUplinkOptions {
  readonly rate: WireRate;
  /** Mic frames held while the uplink is slow. */
  readonly maxFrames: number;
  /** Frames wait while the socket holds more than this. */
  readonly maxSocketBufferedBytes: number;
}

export class MicUplink {
  private readonly outbound: OutboundQueue;
  private seq = 0;
  private droppedWhileClosed = 0;

  constructor(private readonly options: MicUplinkOptions) {
    this.outbound = new OutboundQueue({ maxFrames: options.maxFrames, maxSocketBufferedBytes: options.maxSocketBufferedBytes });
  }

  get sent(): number {
    return this.outbound.sent;
  }

  /** Frames dropped by the queue and frames captured while no connection was ready. */
  get dropped(): number {
    return this.outbound.dropped + this.droppedWhileClosed;
  }

  /** A new connection is ready: its mic frames count from 0. */
  restart(): void {
    this.seq = 0;
  }

  /** The socket closed: what it did not take is gone with it. */
  clear(): void {
    this.outbound.clear();
  }

  /** Sends `samples` on `ws` (undefined when no connection is ready) under `epoch`. */
  send(ws: WebSocket | undefined, epoch: number, samples: Int16Array): void {
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) {
      this.droppedWhileClosed++;
      return;
    }
    const frame = encodeFrame({ kind: 'mic', sampleRate: this.options.rate, epoch, seq: this.seq, sentenceId: 0, pcm: int16ToPcm(samples) });
    this.seq = (this.seq + 1) >>> 0;
    this.outbound.push(frame);
    this.outbound.flush(ws);
  }
}
