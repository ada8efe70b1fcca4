/**
 * Caller audio on its way to the model socket. Live audio must never wait behind a slow socket
 * for ever: when the socket is not writable (not open, reconnecting, or its send buffer above the
 * bound) audio waits in a queue of at most `highWaterMarkMs`, and past that the OLDEST audio is
 * dropped — the model hears the most recent speech, which is what barge-in detection needs.
 *
 * Drops are counted and logged once per episode (first drop, then a summary when the queue has
 * drained), never per frame. `ws` has no drain event, so while audio waits the pump polls.
 */
import { AudioQueue } from '../../flow/audio-queue.js';
import type { LoggerLike } from './options.js';

/** One piece of caller audio in the wire format, owned by the queue. */
interface InputChunk {
  readonly bytes: Uint8Array;
  readonly durationMs: number;
}

export interface InputPumpOptions {
  readonly highWaterMarkMs: number;
  /** True when the socket can take more now. */
  readonly writable: () => boolean;
  /** Sends one chunk (wire format) to the model. Must not keep `bytes` past the call. */
  readonly send: (bytes: Uint8Array, durationMs: number) => void;
  readonly logger: LoggerLike;
  /** How often to retry while audio waits (default 20 ms, one Twilio frame). */
  readonly pollMs?: number;
}

export interface InputPumpStats {
  /** ms of caller audio dropped because the socket could not take it in time. */
  readonly droppedMs: number;
  /** ms waiting now. */
  readonly queuedMs: number;
  /** ms handed to the socket. */
  readonly sentMs: number;
  /** Episodes of drops (each logged once). */
  readonly dropEpisodes: number;
}

export class InputPump {
  private readonly options: InputPumpOptions;
  private readonly queue: AudioQueue<InputChunk>;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private droppedMs = 0;
  private sentMs = 0;
  private dropEpisodes = 0;
  /** ms dropped in the current episode; undefined when no episode is open. */
  private episodeDroppedMs: number | undefined;
  private closed = false;

  constructor(options: InputPumpOptions) {
    this.options = options;
    this.pollMs = options.pollMs ?? 20;
    this.queue = new AudioQueue<InputChunk>({
      highWaterMarkMs: options.highWaterMarkMs,
      overflow: 'drop-oldest',
      onDrop: (chunk) => this.countDrop(chunk.durationMs),
    });
  }

  get stats(): InputPumpStats {
    return { droppedMs: this.droppedMs, queuedMs: this.queue.queuedMs, sentMs: this.sentMs, dropEpisodes: this.dropEpisodes };
  }

  /**
   * Sends `bytes` now if nothing waits and the socket is writable; otherwise queues a copy
   * (the caller's buffer may be reused after this call).
   */
  push(bytes: Uint8Array, durationMs: number): void {
    if (this.closed) return;
    if (!(durationMs > 0) || bytes.length === 0) return;
    if (this.queue.length === 0 && this.options.writable()) {
      this.sendOne(bytes, durationMs);
      return;
    }
    if (durationMs > this.options.highWaterMarkMs) {
      // Larger than the whole queue: it could never fit, so it is the drop.
      this.countDrop(durationMs);
      return;
    }
    this.queue.tryWrite({ bytes: bytes.slice(), durationMs });
    this.flush();
    this.schedule();
  }

  /** Sends what waits while the socket takes it; call when the socket (re)opens. */
  flush(): void {
    while (!this.closed && this.queue.length > 0 && this.options.writable()) {
      const chunk = this.queue.tryRead();
      if (chunk === undefined) break;
      this.sendOne(chunk.bytes, chunk.durationMs);
    }
    if (this.queue.length === 0) this.endEpisode();
  }

  /** Drops everything and stops polling for good (the session is closing). */
  close(): void {
    this.closed = true;
    this.stopTimer();
    this.queue.abort('input pump closed');
  }

  private sendOne(bytes: Uint8Array, durationMs: number): void {
    this.options.send(bytes, durationMs);
    this.sentMs += durationMs;
  }

  private countDrop(durationMs: number): void {
    this.droppedMs += durationMs;
    if (this.episodeDroppedMs === undefined) {
      this.episodeDroppedMs = 0;
      this.dropEpisodes++;
      this.options.logger.warn(
        { queuedMs: this.queue.queuedMs, highWaterMarkMs: this.options.highWaterMarkMs, episode: this.dropEpisodes },
        'model socket cannot keep up: dropping the oldest caller audio',
      );
    }
    this.episodeDroppedMs += durationMs;
  }

  private endEpisode(): void {
    if (this.episodeDroppedMs === undefined) return;
    this.options.logger.info(
      { droppedMs: this.episodeDroppedMs, totalDroppedMs: this.droppedMs, episode: this.dropEpisodes },
      'model socket caught up; caller audio flowing again',
    );
    this.episodeDroppedMs = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => onPollTick(this), this.pollMs);
    // Polling must never keep the process alive on its own.
    this.timer.unref();
  }

  /** @internal called by the poll timer. */
  tick(): void {
    this.flush();
    if (this.queue.length === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function onPollTick(pump: InputPump): void {
  pump.tick();
}
