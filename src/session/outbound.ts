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
 * Audio is queued in pieces of at most `sendChunkMs` (views into the model's delta). The pump takes
 * a piece from the queue together with the pieces queued right behind it of the same epoch, item
 * and sentence, up to `sendChunkMs` in all, and while it holds them waiting for credit, pieces that
 * arrive behind them join too (within the same bound): one send, one copy (only when more than one
 * piece joined). It never waits for audio that has not arrived: what credit covers goes out at
 * once. So a model that sends small deltas costs no more messages than one that sends large ones.
 * One credit spend per send, so the caller never holds more than the window (after a downlink stall
 * that emptied its player, at most the prediction lead more: see flow/playout-model.ts).
 *
 * Sending is a synchronous drain (`pump`), not an async loop: a piece goes out in the call stack of
 * whatever made it sendable — the model's delivery (`enqueue`), the caller's played report
 * (`played`), or the credit gate's one predictive wake-up timer — so the steady state costs no
 * promise and no microtask per piece. Only a pump blocked on credit arms timers (that wake-up, and
 * the playout-stall deadline). A send may call back into this object synchronously (a failed send
 * closing the call, a barge-in, a fake that echoes at once): the pump does not recurse
 * (`draining`), it loops and re-checks its state after every send.
 */
import { bytesPerMs, type AudioFormat } from '../audio/format.js';
import { isVoicewireError, vwError, type VoicewireError } from '../errors.js';
import { AudioQueue } from '../flow/audio-queue.js';
import { CreditGate } from '../flow/credit-gate.js';
import type { EpochClock } from '../flow/epoch.js';
import { PlayoutTracker } from '../flow/playout-tracker.js';
import { WindowTuner, type WindowChange } from '../flow/window-tuner.js';
import { WaitDeadline } from '../flow/wait-deadline.js';
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

/** What every non-pausable delivery returns: the producer does not wait, so nothing to allocate. */
const DELIVERED: Promise<void> = Promise.resolve();

interface Finished {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class OutboundAudio {
  readonly credit: CreditGate;
  private readonly queue: AudioQueue<OutboundItem>;
  private readonly tracker = new PlayoutTracker();
  private readonly tuner: WindowTuner | undefined;
  /**
   * Pieces the pump has taken from the queue and holds while it waits for credit: one piece and
   * those that continue it (same epoch, item, sentence), `heldBytes` ≤ `pieceBytes` in all; sent
   * as one. Empty when nothing waits. The array is reused.
   */
  private readonly held: AudioItem[] = [];
  private heldBytes = 0;
  /** The playout-stall deadline of the pump's waits for credit (one per held piece). */
  private readonly stall: WaitDeadline;
  /** Tail of the chain of pausable writes (see `enqueue`). */
  private writeChain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The pump is running: a send that calls back into this object (and pumps) must not nest. */
  private draining = false;
  /** Set by `run()`; nothing is sent before it. */
  private finished: Finished | undefined;
  /** Longest piece in bytes (`sendChunkMs`): a delivery is cut into pieces of it, and pieces coalesce up to it. */
  private readonly pieceBytes: number;
  private readonly perMs: number;
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
    this.perMs = bytesPerMs(options.format);
    this.pieceBytes = Math.max(1, Math.round(options.sendChunkMs * this.perMs));
    this.stall = new WaitDeadline(options.playoutStallMs, options.now, () => this.stalled());
  }

  /** Model audio waiting in the gateway: the queue plus the piece held for credit. */
  get queuedMs(): number {
    return this.queue.queuedMs + this.heldBytes / this.perMs;
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
   * Queues a delivery in arrival order and sends what credit covers before returning. A
   * non-pausable producer gets one shared resolved promise (it does not wait; a failure of the
   * delivery itself still rejects). A pausable producer's writes wait for room, so each delivery is
   * chained after the previous one: pieces of two deliveries never interleave, and a sentence-end
   * marker never overtakes its sentence's last pieces.
   */
  enqueue(chunk: ModelAudio): Promise<void> {
    if (!this.options.pausable) {
      try {
        this.deliver(chunk);
      } catch (err) {
        return Promise.reject(asError(err));
      }
      return DELIVERED;
    }
    const next = this.writeChain.then(() => this.writePausable(chunk));
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /** Queues the end of a sentence (the caller acknowledges it once played). */
  endSentence(sentenceId: number): boolean {
    const marker: SentenceEndItem = { kind: 'sentence-end', epoch: this.options.epochs.current, sentenceId, durationMs: 0 };
    if (!this.options.pausable) {
      if (!this.queue.tryWrite(marker)) return false;
      this.pump();
      return true;
    }
    // A zero-length marker always fits; it waits only for the pieces written before it.
    this.writeChain = this.writeChain.then(() => {
      if (marker.epoch === this.options.epochs.current && this.queue.tryWrite(marker)) this.pump();
    });
    return true;
  }

  /** The caller's cumulative played position in the current epoch; sends what the credit it frees covers. */
  played(playedMs: number): void {
    const sample = this.credit.played(playedMs);
    const now = this.options.now();
    this.tracker.confirm(playedMs, now);
    if (this.tuner) this.retune((sample && this.tuner.observe(sample, now)) ?? this.tuner.tick(now));
    this.playedOutWaiters.wakeAll();
    this.pump();
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
    this.dropHeld();
    this.credit.abort('barge-in'); // drops the pump's credit wake-up
    this.credit.reset();
    this.tracker.reset();
    this.lastSentItemId = undefined;
    this.playedOutWaiters.wakeAll();
    return report;
  }

  /**
   * Starts sending (nothing is sent before) and resolves at `close()`. The sending itself happens
   * synchronously in `enqueue`, `endSentence`, `played` and the credit gate's wake-up (see the
   * module comment). Rejects when a send threw (a bug, e.g. in the transport); the path is closed
   * then, and the session ends the call.
   */
  run(): Promise<void> {
    if (this.finished === undefined) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.finished = { promise, resolve, reject };
      if (this.closed) resolve();
      this.pump();
    }
    return this.finished.promise;
  }

  /** Releases everything; waiting producers end and `run()` resolves. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held.length = 0;
    this.heldBytes = 0;
    this.stall.cancel();
    this.queue.abort('call ended');
    this.queue.close();
    this.credit.abort('call ended');
    this.tracker.reset();
    this.playedOutWaiters.failAll(vwError('VW_ERR_CLOSED', 'call ended'));
    this.finished?.resolve();
  }

  private retune(change: WindowChange | undefined): void {
    if (change === undefined) return;
    this.credit.setWindow(change.windowMs);
    this.options.onWindow?.(change);
  }

  /** Sends what is queued while credit covers it, in the caller's call stack; never nests. */
  private pump(): void {
    if (this.draining || this.finished === undefined || this.closed) return;
    this.draining = true;
    try {
      this.drain();
    } catch (err) {
      this.fail(err);
    } finally {
      this.draining = false;
    }
  }

  private drain(): void {
    const { epochs, transport } = this.options;
    // Every pass re-reads the state: a send may have closed the path, dropped the queue or played.
    while (!this.closed) {
      let first = this.held[0];
      if (first === undefined) {
        const item: OutboundItem | undefined = this.queue.tryRead();
        if (item === undefined) return; // empty: the next delivery pumps
        if (item.epoch !== epochs.current) continue; // stale (a barge-in came after it was queued): dropped
        if (item.kind === 'sentence-end') {
          transport.endSentence(item.epoch, item.sentenceId);
          continue;
        }
        this.hold(item);
        first = item;
      } else if (first.epoch !== epochs.current) {
        this.dropHeld();
        continue;
      }
      this.gather(first);
      const durationMs = this.heldBytes / this.perMs;
      if (!this.credit.trySpend(durationMs)) {
        this.waitForCredit(durationMs);
        return;
      }
      const item = this.takeHeld(durationMs);
      const now = this.options.now();
      // Dry in the middle of an item: the caller heard a gap (the gateway's estimate).
      if (item.itemId === this.lastSentItemId && this.tracker.estimatePlayed(now) >= this.tracker.sentMs) {
        this.underruns++;
        this.retune(this.tuner?.underrun(now));
      }
      // Book the send before making it: a barge-in inside sendAudio must find it on the old timeline.
      this.tracker.sent(item.itemId, item.durationMs, now);
      this.lastSentItemId = item.itemId;
      this.maxBufferedMs = Math.max(this.maxBufferedMs, this.credit.inFlightMs);
      transport.sendAudio(item);
    }
  }

  private hold(item: AudioItem): void {
    this.held.push(item);
    this.heldBytes += item.bytes.length;
  }

  /**
   * Adds to the held pieces those queued right behind them that continue `first` (same epoch, item
   * and sentence) while the total stays within `sendChunkMs`. Only what is already queued joins.
   */
  private gather(first: AudioItem): void {
    for (let next = this.queue.peek(); next !== undefined; next = this.queue.peek()) {
      if (next.kind !== 'audio' || next.epoch !== first.epoch || next.itemId !== first.itemId || next.sentenceId !== first.sentenceId) return;
      if (this.heldBytes + next.bytes.length > this.pieceBytes) return;
      this.queue.tryRead();
      this.hold(next);
    }
  }

  /** The held pieces as one (copied into one buffer only when there are several); the wait is over. */
  private takeHeld(durationMs: number): AudioItem {
    const parts = this.held;
    const first = parts[0]!;
    let item = first;
    if (parts.length > 1) {
      // A Buffer (from Node's pool when small, every byte overwritten): it is encoded as it is,
      // where a fresh Uint8Array costs its own ArrayBuffer and a Buffer wrapped around it per send.
      const bytes = Buffer.allocUnsafe(this.heldBytes);
      let offset = 0;
      for (const part of parts) {
        bytes.set(part.bytes, offset);
        offset += part.bytes.length;
      }
      item = { kind: 'audio', epoch: first.epoch, itemId: first.itemId, sentenceId: first.sentenceId, bytes, durationMs };
    }
    this.dropHeld();
    return item;
  }

  /**
   * Waits until credit covers the held pieces (`durationMs`): a played report pumps, and so does the
   * gate's predictive wake-up when time alone brings the credit (re-armed when more pieces joined).
   * The stall deadline runs from the start of the wait.
   */
  private waitForCredit(durationMs: number): void {
    this.stall.begin(); // a wait in progress keeps its start
    this.credit.wakeOnPredictedCredit(durationMs, this.onCreditWake);
  }

  /** The held pieces leave (sent or dropped): their wait for credit is over. */
  private dropHeld(): void {
    this.held.length = 0;
    this.heldBytes = 0;
    this.stall.end();
  }

  private readonly onCreditWake = (): void => this.pump();

  /** A piece waited `playoutStallMs` for credit: the caller stopped confirming playback. */
  private stalled(): void {
    this.options.onFatal(vwError('VW_ERR_PLAYOUT_STALLED', this.options.playoutStallMs));
    this.close(); // the sender is done, whatever onFatal does
  }

  /** A send threw (a bug): `run()` rejects and the path closes; the producer and the peer see nothing. */
  private fail(err: unknown): void {
    this.finished?.reject(asError(err));
    this.close();
  }

  /** Queues a non-pausable delivery (what does not fit is reported to `onCap`), then sends. */
  private deliver(chunk: ModelAudio): void {
    if (this.closed) return;
    const epoch = this.options.epochs.current;
    const perMs = this.perMs;
    const bytes = chunk.bytes;
    for (let offset = 0; offset < bytes.length; offset += this.pieceBytes) {
      const end = Math.min(offset + this.pieceBytes, bytes.length);
      if (!this.queue.tryWrite(this.piece(chunk, epoch, offset, end, perMs))) {
        this.options.onCap(chunk.responseId, (bytes.length - offset) / perMs);
        break;
      }
    }
    this.pump();
  }

  /** Queues a pausable delivery piece by piece, waiting for room; each piece is sent when credit allows. */
  private async writePausable(chunk: ModelAudio): Promise<void> {
    if (this.closed) return;
    const epoch = this.options.epochs.current;
    const perMs = this.perMs;
    const bytes = chunk.bytes;
    for (let offset = 0; offset < bytes.length; offset += this.pieceBytes) {
      const item = this.piece(chunk, epoch, offset, Math.min(offset + this.pieceBytes, bytes.length), perMs);
      if (!this.queue.tryWrite(item)) {
        try {
          await this.queue.write(item);
        } catch (err) {
          if (isVoicewireError(err, 'VW_ERR_ABORTED') || isVoicewireError(err, 'VW_ERR_CLOSED')) return;
          throw err;
        }
      }
      this.pump();
      if (epoch !== this.options.epochs.current) return;
    }
  }

  private piece(chunk: ModelAudio, epoch: number, offset: number, end: number, perMs: number): AudioItem {
    return {
      kind: 'audio', epoch, itemId: chunk.itemId, sentenceId: chunk.sentenceId,
      bytes: chunk.bytes.subarray(offset, end), durationMs: (end - offset) / perMs,
    };
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
