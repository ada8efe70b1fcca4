/**
 * The model → caller path of one call:
 *
 *   model audio ─► AudioQueue (ms, capped) ─► CreditGate (window − unplayed) ─► transport.sendAudio
 *   caller played reports ─► CreditGate.played + PlayoutTracker.confirm
 *
 * Credit is predictive (the gate models the caller's player on `now`, see flow/playout-model.ts),
 * and with `adaptiveWindow` a WindowTuner resizes the window from the model's round-trip and
 * lateness samples and from underruns (flow/window-tuner.ts).
 *
 * Audio is queued in pieces of at most `sendChunkMs` (views into the model's delta): one credit
 * spend and one message per piece, so the caller never holds more than the window (after a downlink
 * stall that emptied its player, at most the prediction lead more: see flow/playout-model.ts).
 */
import { bytesPerMs, type AudioFormat } from '../audio/format.js';
import { isVoicewireError, vwError, type VoicewireError } from '../errors.js';
import { AudioQueue } from '../flow/audio-queue.js';
import { CreditGate } from '../flow/credit-gate.js';
import type { EpochClock } from '../flow/epoch.js';
import { PlayoutTracker } from '../flow/playout-tracker.js';
import { WindowTuner, type WindowChange } from '../flow/window-tuner.js';
import { Waiter, WaiterList } from '../flow/waiters.js';
import type { WaitOptions } from '../flow/audio-queue.js';
import type { ModelAudio } from '../models/model.js';
import type { CallerTransport } from '../transports/transport.js';

export interface OutboundOptions {
  readonly transport: CallerTransport;
  readonly format: AudioFormat;
  /** The call's epochs (shared with the session, which advances them on barge-in). */
  readonly epochs: EpochClock;
  /** The window; with `adaptiveWindow`, the one to start with. */
  readonly windowMs: number;
  /**
   * Adapt the window to the link (`CREDIT_WINDOW_MS=auto`). `maxMs`: the caller's own capacity
   * (a browser's player), which the window never exceeds.
   */
  readonly adaptiveWindow?: { readonly maxMs?: number };
  /**
   * How far credit may run ahead of the caller's last played report on the predicted playout
   * (flow/playout-model.ts). Default 250; 0 = credit from reports only (the round trip is still
   * measured for the adaptive window).
   */
  readonly predictionLeadMs?: number;
  /** The adaptive window changed (for the log and the metrics). */
  readonly onWindow?: (change: WindowChange) => void;
  /** A pausable producer waits for room; one that is not gets `onCap` when the queue is full. */
  readonly pausable: boolean;
  /** Queue bound (ms): the cap for a non-pausable producer, the pause point for a pausable one. */
  readonly queueMs: number;
  readonly sendChunkMs: number;
  readonly playoutStallMs: number;
  readonly now: () => number;
  /** The queue was full: the rest of this delivery (`droppedMs`) was not queued. */
  readonly onCap: (responseId: string, droppedMs: number) => void;
  /** A fatal condition of the path (the caller stopped confirming playback). */
  readonly onFatal: (error: VoicewireError) => void;
}

interface AudioItem {
  readonly kind: 'audio';
  readonly epoch: number;
  readonly itemId: string;
  readonly sentenceId: number;
  readonly bytes: Uint8Array;
  readonly durationMs: number;
}

interface SentenceEndItem {
  readonly kind: 'sentence-end';
  readonly epoch: number;
  readonly sentenceId: number;
  readonly durationMs: 0;
}

type OutboundItem = AudioItem | SentenceEndItem;

/** What the caller heard when a barge-in dropped the rest. */
export interface DropReport {
  /** Audio dropped from the gateway (queue + the piece held for credit), ms. */
  readonly droppedMs: number;
  /** Estimated played position of the epoch at the barge-in. */
  readonly heardMs: number;
  /** Last confirmed played position of the epoch. */
  readonly confirmedMs: number;
  /** The item playing at the barge-in and how much of it was heard (for truncation). */
  readonly heard: { readonly itemId: string; readonly audioEndMs: number } | undefined;
  /** The interrupted epoch's timeline, frozen: evaluated again when the caller confirms the clear. */
  readonly timeline: PlayoutTracker;
}

export class OutboundAudio {
  readonly credit: CreditGate;
  private readonly queue: AudioQueue<OutboundItem>;
  private readonly tracker = new PlayoutTracker();
  private readonly tuner: WindowTuner | undefined;
  /** The piece the sender has taken from the queue and holds while it waits for credit. */
  private held: AudioItem | undefined;
  /** Tail of the chain of pausable writes (see `enqueue`). */
  private writeChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly pieceBytes: number;
  /** `whenPlayedOut` callers, woken at every played report, drop and close. */
  private readonly playedOutWaiters = new WaiterList();
  private lastSentItemId: string | undefined;
  /** Most audio the caller held unplayed (ms, by the credit's playout model), over the call. */
  maxBufferedMs = 0;
  /** Times the caller's player ran dry in the middle of an item (the gateway's view). */
  underruns = 0;

  constructor(private readonly options: OutboundOptions) {
    const adaptive = options.adaptiveWindow;
    this.tuner = adaptive && new WindowTuner({ initialMs: options.windowMs, ...(adaptive.maxMs === undefined ? {} : { maxMs: adaptive.maxMs }) });
    this.credit = new CreditGate({
      windowMs: this.tuner?.windowMs ?? options.windowMs,
      clock: options.now,
      ...(options.predictionLeadMs === undefined ? {} : { leadMs: options.predictionLeadMs }),
    });
    this.queue = options.pausable
      ? new AudioQueue<OutboundItem>({ highWaterMarkMs: options.queueMs })
      : new AudioQueue<OutboundItem>({ highWaterMarkMs: options.queueMs, overflow: 'reject' });
    this.pieceBytes = Math.max(1, Math.round(options.sendChunkMs * bytesPerMs(options.format)));
  }

  /** Model audio waiting in the gateway: the queue plus the piece held for credit. */
  get queuedMs(): number {
    return this.queue.queuedMs + (this.held?.durationMs ?? 0);
  }

  /** The caller's confirmed played position in the current epoch (ms). */
  get playedMs(): number {
    return this.tracker.playedMs;
  }

  /** True while audio is queued, or sent but not confirmed played. */
  get hasUnplayed(): boolean {
    return this.tracker.sentMs > this.tracker.playedMs || this.queuedMs > 0;
  }

  /**
   * Queues a delivery in arrival order. A pausable producer's writes wait for room, so each
   * delivery is chained after the previous one: pieces of two deliveries never interleave, and a
   * sentence-end marker never overtakes its sentence's last pieces.
   */
  enqueue(chunk: ModelAudio): Promise<void> {
    if (!this.options.pausable) return this.write(chunk);
    const next = this.writeChain.then(() => this.write(chunk));
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /** Queues the end of a sentence (the caller acknowledges it once played). */
  endSentence(sentenceId: number): boolean {
    const marker: SentenceEndItem = { kind: 'sentence-end', epoch: this.options.epochs.current, sentenceId, durationMs: 0 };
    if (!this.options.pausable) return this.queue.tryWrite(marker);
    // A zero-length marker always fits; it waits only for the pieces written before it.
    this.writeChain = this.writeChain.then(() => {
      if (marker.epoch === this.options.epochs.current) this.queue.tryWrite(marker);
    });
    return true;
  }

  /** The caller's cumulative played position in the current epoch. */
  played(playedMs: number): void {
    const sample = this.credit.played(playedMs);
    const now = this.options.now();
    this.tracker.confirm(playedMs, now);
    if (this.tuner) this.retune((sample && this.tuner.observe(sample, now)) ?? this.tuner.tick(now));
    this.playedOutWaiters.wakeAll();
  }

  /**
   * Resolves once everything queued has been sent and confirmed played by the caller (played
   * reports, never a timer). Rejects at the deadline or when the path closes.
   */
  async whenPlayedOut(options: WaitOptions): Promise<void> {
    const waiter = new Waiter(this.playedOutWaiters, 'the caller to play everything sent', options);
    try {
      while (this.hasUnplayed) {
        if (this.closed) throw vwError('VW_ERR_CLOSED', 'call ended');
        await waiter.park();
      }
    } finally {
      waiter.leave();
    }
  }

  /**
   * Barge-in: drop, never flush. Everything queued is dropped and the credit restarts with the new
   * epoch (the caller was told to clear its player); returns what the caller heard.
   */
  dropAll(now: number): DropReport {
    const heardMs = this.tracker.estimatePlayed(now);
    const playing = this.tracker.sentMs > 0 ? this.tracker.itemAt(heardMs) : undefined;
    const report: DropReport = {
      droppedMs: this.queuedMs,
      heardMs,
      confirmedMs: this.tracker.playedMs,
      heard: playing && { itemId: playing.itemId, audioEndMs: this.tracker.playedOfItem(playing.itemId, heardMs) },
      timeline: this.tracker.freeze(),
    };
    this.queue.abort('barge-in');
    this.held = undefined; // the sender's credit wait is rejected below; the piece is gone now
    this.credit.abort('barge-in');
    this.credit.reset();
    this.tracker.reset();
    this.lastSentItemId = undefined;
    this.playedOutWaiters.wakeAll();
    return report;
  }

  /**
   * Sends queued audio to the caller as credit allows; one loop per call, ends at `close()`.
   * A piece that is queued and covered by credit is taken without awaiting (tryRead/trySpend):
   * in the steady state every piece is, and two promise turns per piece were most of this loop's
   * cost; it waits (read/spend) only when the queue is empty or the credit short.
   */
  async run(): Promise<void> {
    const { epochs, transport } = this.options;
    while (!this.closed) {
      let item: OutboundItem | undefined = this.queue.tryRead();
      if (item === undefined) {
        try {
          item = await this.queue.read();
        } catch (err) {
          if (isVoicewireError(err, 'VW_ERR_ABORTED')) continue; // barge-in emptied the queue
          throw err;
        }
        if (item === undefined) return; // closed: the call ended
      }
      if (item.epoch !== epochs.current) continue;
      if (item.kind === 'sentence-end') {
        transport.endSentence(item.epoch, item.sentenceId);
        continue;
      }
      if (!this.credit.trySpend(item.durationMs)) {
        this.held = item;
        try {
          await this.credit.spend(item.durationMs, { timeoutMs: this.options.playoutStallMs });
        } catch (err) {
          if (isVoicewireError(err, 'VW_ERR_ABORTED')) continue;
          if (isVoicewireError(err, 'VW_ERR_DEADLINE')) {
            this.options.onFatal(vwError('VW_ERR_PLAYOUT_STALLED', this.options.playoutStallMs));
            return;
          }
          throw err;
        } finally {
          this.held = undefined;
        }
        // A barge-in between the credit wait and now made this piece stale: drop it.
        if (item.epoch !== epochs.current || this.closed) continue;
      }
      const now = this.options.now();
      // Dry in the middle of an item: the caller heard a gap (the gateway's estimate).
      if (item.itemId === this.lastSentItemId && this.tracker.estimatePlayed(now) >= this.tracker.sentMs) {
        this.underruns++;
        this.retune(this.tuner?.underrun(now));
      }
      transport.sendAudio(item);
      this.tracker.sent(item.itemId, item.durationMs, now);
      this.lastSentItemId = item.itemId;
      this.maxBufferedMs = Math.max(this.maxBufferedMs, this.credit.inFlightMs);
    }
  }

  /** Releases everything; waiting producers and the sender end. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.abort('call ended');
    this.queue.close();
    this.credit.abort('call ended');
    this.tracker.reset();
    this.playedOutWaiters.failAll(vwError('VW_ERR_CLOSED', 'call ended'));
  }

  private retune(change: WindowChange | undefined): void {
    if (change === undefined) return;
    this.credit.setWindow(change.windowMs);
    this.options.onWindow?.(change);
  }

  private async write(chunk: ModelAudio): Promise<void> {
    if (this.closed) return;
    const epoch = this.options.epochs.current;
    const perMs = bytesPerMs(this.options.format);
    const bytes = chunk.bytes;
    for (let offset = 0; offset < bytes.length; offset += this.pieceBytes) {
      const end = Math.min(offset + this.pieceBytes, bytes.length);
      const item: AudioItem = {
        kind: 'audio', epoch, itemId: chunk.itemId, sentenceId: chunk.sentenceId,
        bytes: bytes.subarray(offset, end), durationMs: (end - offset) / perMs,
      };
      if (this.options.pausable) {
        try {
          await this.queue.write(item);
        } catch (err) {
          if (isVoicewireError(err, 'VW_ERR_ABORTED') || isVoicewireError(err, 'VW_ERR_CLOSED')) return;
          throw err;
        }
        if (epoch !== this.options.epochs.current) return;
      } else if (!this.queue.tryWrite(item)) {
        this.options.onCap(chunk.responseId, (bytes.length - offset) / perMs);
        return;
      }
    }
  }
}
