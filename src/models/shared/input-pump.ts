/**
 * Caller audio on its way to the model socket. Live audio must never wait behind a slow socket
 * for ever: when the socket is not writable (not open, reconnecting, or its send buffer above the
 * bound) audio waits in a queue of at most `highWaterMarkMs`, and past that the OLDEST audio is
 * dropped — the model hears the most recent speech, which is what barge-in detection needs.
 *
 * Drops are counted and logged once per episode (first drop, then a summary when the queue has
 * drained), never per frame. `ws` has no drain event, so while audio waits the pump polls.
 *
 * With `batchMs` > 0, consecutive QUIET frames are first gathered into one chunk of at least
 * `batchMs` (a 20 ms Twilio frame per message is 50 messages a second per call to the model; 100 ms
 * is 10): the model hears them up to `batchMs` − one frame later. A frame pushed as `urgent` (loud:
 * speech) goes at once, after the batch before it, so the onset of speech is never delayed (until
 * the model hears speech: see below). A
 * partial batch never waits longer than `batchMs` after its first frame: one shared timer
 * (SharedTicker) sends it.
 *
 * With `idleBatchMs`, quiet frames are gathered into longer chunks while the owner reports that the
 * model's turn detector hears no speech (`setSpeaking(false)`, e.g. after the server VAD's
 * `speech_stopped`): the silence then decides nothing (no turn is ending), so its delay costs no
 * latency; loud frames still go at once. When the model hears speech again (`setSpeaking(true)`)
 * the long batch goes at once and batching falls back to `batchMs`, so the silence that ends a turn
 * is never held longer than today. Until the owner reports, `batchMs` applies.
 *
 * While the model hears speech (`setSpeaking(true)`), loud frames wait in the `batchMs` batch like
 * quiet ones: `urgent` exists so that the onset of speech is never delayed, and the model has heard
 * the onset by then. A caller who speaks would otherwise cost 50 appends a second (one per frame)
 * for as long as they speak; batched, 10. The model hears the rest of the utterance up to `batchMs`
 * − one frame later, which moves nothing the gateway waits for: the barge-in has happened (at
 * `speech_started`), and the end of the turn waits for silence that is batched the same way.
 */
import { AudioQueue } from '../../flow/audio-queue.js';
import { MAX_INPUT_BATCH_MS, MAX_INPUT_IDLE_BATCH_MS, type LoggerLike } from './options.js';
import { SharedTicker } from './shared-ticker.js';
/** Serves the partial-batch deadline of every pump in the process. */
const BATCH_TICKER = new SharedTicker(20);
/** Bound on one batch's buffer (1 s of 24 kHz PCM16 is 48 000 bytes); frames that would need more are not batched. */
export const MAX_BATCH_BYTES = 64 * 1024;

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
  /** Gather frames into chunks of at least this many ms before sending (default 0: each push as is); ≤ {@link MAX_INPUT_BATCH_MS}. */
  readonly batchMs?: number;
  /**
   * While the model hears no speech (`setSpeaking(false)`), gather quiet frames into chunks of this
   * many ms instead (default: `batchMs`; never less than it); ≤ {@link MAX_INPUT_IDLE_BATCH_MS}.
   */
  readonly idleBatchMs?: number;
}

/** Frames gathered for one send: `bytes[0, length)`, `durationMs` of audio since `firstAt`. */
interface Batch {
  bytes: Uint8Array;
  length: number;
  durationMs: number;
  firstAt: number;
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
  private readonly batchMs: number;
  private readonly idleBatchMs: number;
  /** What the owner last reported of the model's turn detector; undefined: never reported. */
  private speaking: boolean | undefined;
  private readonly batch: Batch = { bytes: new Uint8Array(0), length: 0, durationMs: 0, firstAt: 0 };
  private readonly onBatchTick = (now: number): void => {
    if (now - this.batch.firstAt >= this.targetMs) this.sendBatch();
  };

  constructor(options: InputPumpOptions) {
    this.options = options;
    this.pollMs = options.pollMs ?? 20;
    this.batchMs = options.batchMs ?? 0;
    if (!(this.batchMs >= 0 && this.batchMs <= MAX_INPUT_BATCH_MS)) throw new RangeError(`batchMs must be in 0–${MAX_INPUT_BATCH_MS} (got ${this.batchMs})`);
    const idleBatchMs = options.idleBatchMs ?? 0;
    if (!(idleBatchMs >= 0 && idleBatchMs <= MAX_INPUT_IDLE_BATCH_MS)) throw new RangeError(`idleBatchMs must be in 0–${MAX_INPUT_IDLE_BATCH_MS} (got ${idleBatchMs})`);
    this.idleBatchMs = Math.max(idleBatchMs, this.batchMs);
    this.queue = new AudioQueue<InputChunk>({
      highWaterMarkMs: options.highWaterMarkMs,
      overflow: 'drop-oldest',
      onDrop: (chunk) => this.countDrop(chunk.durationMs),
    });
  }

  /** The batch size in force: the idle one only while the model is known to hear no speech. */
  private get targetMs(): number {
    return this.speaking === false ? this.idleBatchMs : this.batchMs;
  }

  /**
   * The model's turn detector started (true) or stopped (false) hearing speech. Starting sends
   * the batch at once: whatever waits in it is now part of a turn the model is timing.
   */
  setSpeaking(speaking: boolean): void {
    if (this.speaking === speaking) return;
    this.speaking = speaking;
    if (speaking) this.sendBatch();
  }

  get stats(): InputPumpStats {
    return { droppedMs: this.droppedMs, queuedMs: this.queue.queuedMs + this.batch.durationMs, sentMs: this.sentMs, dropEpisodes: this.dropEpisodes };
  }

  /**
   * Sends `bytes` now if nothing waits and the socket is writable; otherwise queues a copy
   * (the caller's buffer may be reused after this call). With `batchMs`, gathers first unless
   * `urgent` while the model is not known to hear speech (then what was gathered goes first, and
   * this right behind it).
   */
  push(bytes: Uint8Array, durationMs: number, urgent = false): void {
    if (this.closed) return;
    if (!(durationMs > 0) || bytes.length === 0) return;
    if ((!urgent || this.speaking === true) && durationMs < this.targetMs) {
      this.gather(bytes, durationMs);
      return;
    }
    this.sendBatch();
    this.forward(bytes, durationMs);
  }

  /** Sends the partial batch now (before anything that must follow the audio already pushed). */
  sendBatch(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    BATCH_TICKER.delete(this.onBatchTick);
    const durationMs = batch.durationMs;
    const bytes = batch.bytes.subarray(0, batch.length);
    batch.length = 0;
    batch.durationMs = 0;
    this.forward(bytes, durationMs);
  }

  private gather(bytes: Uint8Array, durationMs: number): void {
    const batch = this.batch;
    if (batch.length + bytes.length > batch.bytes.length) {
      this.sendBatch();
      // Room for a whole (idle) batch of frames this size plus one (sized once per call, in practice).
      const capacity = Math.ceil((bytes.length * this.idleBatchMs) / durationMs) + bytes.length;
      if (capacity > MAX_BATCH_BYTES) {
        this.forward(bytes, durationMs);
        return;
      }
      if (capacity > batch.bytes.length) batch.bytes = new Uint8Array(capacity);
    }
    if (batch.length === 0) {
      batch.firstAt = performance.now();
      BATCH_TICKER.add(this.onBatchTick);
    }
    batch.bytes.set(bytes, batch.length);
    batch.length += bytes.length;
    batch.durationMs += durationMs;
    if (batch.durationMs >= this.targetMs) this.sendBatch();
  }

  private forward(bytes: Uint8Array, durationMs: number): void {
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
    BATCH_TICKER.delete(this.onBatchTick);
    this.batch.length = 0;
    this.batch.durationMs = 0;
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
