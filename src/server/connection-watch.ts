/**
 * "Never trust the socket buffer": watches one WebSocket's `bufferedAmount` and liveness.
 * - past `warnBytes`: one warning per episode (log + metric);
 * - past `cutoffBytes` continuously for `cutoffMs`: the consumer is cut off with VW_ERR_SLOW_CONSUMER;
 * - a ping every `heartbeatMs`; a peer that misses two pongs in a row is terminated (VW_ERR_HEARTBEAT).
 * ws queues pings behind buffered data, so a stalled reader also stops answering pings.
 */
import type { WebSocket } from 'ws';
import { vwError, type VoicewireError } from '../errors.js';

export interface ConnectionWatchOptions {
  readonly name: string;
  readonly warnBytes: number;
  readonly cutoffBytes: number;
  readonly cutoffMs: number;
  readonly heartbeatMs: number;
  /** How often bufferedAmount is sampled. */
  readonly sampleMs?: number;
  readonly missedPongsAllowed?: number;
  readonly onSample?: (bufferedAmount: number) => void;
  readonly onWarn?: (bufferedAmount: number) => void;
  readonly onHeartbeatMissed?: (missed: number) => void;
  /** The watch ended the connection; it has already been closed or terminated. */
  readonly onFatal?: (error: VoicewireError) => void;
}

type WatchState = 'watching' | 'stopped';

const CLOSE_GRACE_MS = 1000;

export class ConnectionWatch {
  private state: WatchState = 'watching';
  private overSince: number | undefined;
  private warned = false;
  private missedPongs = 0;
  private awaitingPong = false;
  private readonly sampleTimer: NodeJS.Timeout;
  /** Its own timer only when the heartbeat is not every n-th sample (see the constructor). */
  private readonly heartbeatTimer: NodeJS.Timeout | undefined;
  /** The heartbeat runs on every n-th sample tick; 0 when it has its own timer. */
  private readonly samplesPerHeartbeat: number;
  private samplesSinceHeartbeat = 0;
  private readonly onPong = (): void => {
    this.awaitingPong = false;
    this.missedPongs = 0;
  };

  constructor(
    private readonly socket: WebSocket,
    private readonly options: ConnectionWatchOptions,
  ) {
    const sampleMs = options.sampleMs ?? 250;
    // One timer per connection where the heartbeat period is a whole number of sample periods (the
    // defaults: 10 s = 40 × 250 ms): a timer costs ≈ 200 bytes of heap per call.
    const ratio = options.heartbeatMs / sampleMs;
    this.samplesPerHeartbeat = Number.isInteger(ratio) && ratio >= 1 ? ratio : 0;
    this.sampleTimer = setInterval(() => this.onSampleTick(), sampleMs);
    this.sampleTimer.unref();
    if (this.samplesPerHeartbeat === 0) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(), options.heartbeatMs);
      this.heartbeatTimer.unref();
    }
    socket.on('pong', this.onPong);
    // `on`, not `once`: stop() runs once anyway, and `once` adds a wrapper and its state per call.
    socket.on('close', () => this.stop());
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearInterval(this.sampleTimer);
    clearInterval(this.heartbeatTimer);
    this.socket.off('pong', this.onPong);
  }

  private onSampleTick(): void {
    this.sample();
    if (this.samplesPerHeartbeat === 0 || ++this.samplesSinceHeartbeat < this.samplesPerHeartbeat) return;
    this.samplesSinceHeartbeat = 0;
    this.heartbeat();
  }

  /** One bufferedAmount check; public so tests and the session can sample at a known moment. */
  sample(now: number = Date.now()): void {
    if (this.state !== 'watching') return;
    const buffered = this.socket.bufferedAmount;
    this.options.onSample?.(buffered);
    if (buffered > this.options.warnBytes) {
      if (!this.warned) {
        this.warned = true;
        this.options.onWarn?.(buffered);
      }
    } else {
      this.warned = false;
    }
    if (buffered > this.options.cutoffBytes) {
      this.overSince ??= now;
      if (now - this.overSince >= this.options.cutoffMs) {
        this.fatal(vwError('VW_ERR_SLOW_CONSUMER', this.options.cutoffBytes, this.options.cutoffMs), false);
      }
    } else {
      this.overSince = undefined;
    }
  }

  private heartbeat(): void {
    if (this.state !== 'watching') return;
    if (this.awaitingPong) {
      this.missedPongs += 1;
      this.options.onHeartbeatMissed?.(this.missedPongs);
      if (this.missedPongs >= (this.options.missedPongsAllowed ?? 2)) {
        this.fatal(vwError('VW_ERR_HEARTBEAT', this.missedPongs), true);
        return;
      }
    }
    this.awaitingPong = true;
    try {
      this.socket.ping();
    } catch {
      // ping() throws only when the socket is not open; the close handler stops the watch.
      this.stop();
    }
  }

  private fatal(error: VoicewireError, terminate: boolean): void {
    this.stop();
    // A slow consumer gets a close frame (it may still read it) and a short grace; a dead peer
    // cannot answer one. A close handshake with a stalled peer would otherwise wait ws's 30 s.
    if (!terminate && error.closeCode !== undefined) {
      this.socket.close(error.closeCode, error.code);
      setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
    } else {
      this.socket.terminate();
    }
    this.options.onFatal?.(error);
  }
}
