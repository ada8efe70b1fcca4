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
 * Audio is queued in pieces of at most `sendChunkMs`. Their bytes are copied, as they are queued,
 * into one byte ring per call (flow/byte-ring.ts: grows by doubling up to what the queue's cap
 * holds, given back at barge-in, close and once the caller has played everything); a piece is a
 * position and a length in it, so queued audio costs the heap its bytes and one small object per
 * piece, not a buffer and views that survive scavenges while the model runs ahead. The pump takes
 * a piece from the queue together with the pieces queued right behind it of the same generation, item
 * and sentence, up to `sendChunkMs` in all, and while it holds them waiting for credit, pieces that
 * arrive behind them join too (within the same bound): one send of contiguous ring bytes (a copy
 * only across the ring's wrap point). It never waits for audio that has not arrived — what credit
 * covers goes out at once — with one exception, the start cushion: audio to a player that is dry by
 * the credit's model (an answer's start, or after an underrun) is held until `startCushion.ms` of
 * it can go as one message, nothing more can join, or `startCushion.holdMs` passed; the player
 * starts on that message, so its length is the caller's margin against a late second one. So a
 * model that sends small deltas costs no more messages than one that sends large ones.
 * One credit spend per send, so the caller never holds more than the window (after a downlink stall
 * that emptied its player, at most the prediction lead more: see flow/playout-model.ts).
 *
 * `hold()` (a local barge-in's guess) stops the sending and restarts the credit and the timeline
 * with the caller's new epoch, keeping the queue; `resume()` sends again what the caller was sent
 * and did not hear (kept, with `replayable`, in a SentAudioLog until the caller confirms playing
 * it), then goes on with the queue. Pieces therefore carry the queue's generation, which only
 * `dropAll` advances, not the caller's epoch: a piece queued before a hold goes out after it.
 *
 * Sending is a synchronous drain (`pump`), not an async loop: a piece goes out in the call stack of
 * whatever made it sendable — the model's delivery (`enqueue`), the caller's played report
 * (`played`), or the credit gate's one predictive wake-up timer — so the steady state costs no
 * promise and no microtask per piece. Only a pump blocked on credit arms timers (that wake-up, and
 * the playout-stall deadline). A send may call back into this object synchronously (a failed send
 * closing the call, a barge-in, a fake that echoes at once): the pump does not recurse
 * (`draining`), it loops and re-checks its state after every send.
 */
import { bytesPerMs, bytesPerSample, type AudioFormat } from '../audio/format.js';
import { isVoicewireError, vwError, type VoicewireError } from '../errors.js';
import { AudioQueue } from '../flow/audio-queue.js';
import { ByteRing } from '../flow/byte-ring.js';
import { joinReplays, SentAudioLog, type Replay } from '../flow/sent-log.js';
import { CreditGate, MAX_WINDOW_MS } from '../flow/credit-gate.js';
import { DEFAULT_LEAD_MS } from '../flow/playout-model.js';
import type { EpochClock } from '../flow/epoch.js';
import { PlayoutTracker } from '../flow/playout-tracker.js';
import { WindowTuner, type WindowChange } from '../flow/window-tuner.js';
import { WaitDeadline } from '../flow/wait-deadline.js';
import { Waiter, WaiterList } from '../flow/waiters.js';
import type { WaitOptions } from '../flow/audio-queue.js';
import type { ModelAudio } from '../models/model.js';
import type { CallerTransport, OutboundAudio as OutboundChunk } from '../transports/transport.js';

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
  /**
   * A dry player (the start of an answer, or after an underrun) starts playing the first audio it
   * gets, so that first message is all it has against a late second one (a lost segment costs a
   * round trip or more). The pump holds the first piece until `ms` of audio follows it (sent as one
   * message, past `sendChunkMs`), what follows cannot join, or `holdMs` passed. Default: off.
   */
  readonly startCushion?: { readonly ms: number; readonly holdMs: number };
  readonly playoutStallMs: number;
  /**
   * Keep what the caller was sent until it confirms playing it, so that `hold()` can be undone by
   * `resume()` (local barge-in's false starts). Default: off (nothing kept, nothing copied).
   */
  readonly replayable?: boolean;
  readonly now: () => number;
  /** The queue was full: the rest of this delivery (`droppedMs`) was not queued. */
  readonly onCap: (responseId: string, droppedMs: number) => void;
  /** A fatal condition of the path (the caller stopped confirming playback). */
  readonly onFatal: (error: VoicewireError) => void;
}

/**
 * A queued piece: `length` bytes at `position` in the call's byte ring. `generation`: the queue's
 * contents at the time (`dropAll` starts a new one; a piece of an older one is dropped). The
 * caller's epoch is not the piece's: a piece held over a `hold()` is sent in the epoch after it.
 */
interface AudioItem {
  readonly kind: 'audio';
  readonly generation: number;
  readonly itemId: string;
  readonly sentenceId: number;
  readonly position: number;
  readonly length: number;
  readonly durationMs: number;
}

/** The chunk handed to `transport.sendAudio`: one object, refilled per send (the transport keeps nothing). */
type SendChunk = { -readonly [K in keyof OutboundChunk]: OutboundChunk[K] };

interface SentenceEndItem {
  readonly kind: 'sentence-end';
  readonly generation: number;
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

const EMPTY_BYTES = new Uint8Array(0);

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
  /** The bytes of every queued piece (and of the held ones), in queue order. */
  private readonly ring: ByteRing;
  /**
   * The piece the pump has taken from the queue and holds while it waits for credit, with those
   * that continue it (same generation, item, sentence) and follow it in the ring: `heldBytes` ≤
   * `pieceBytes` in all from `held.position`, sent as one. Undefined when nothing waits.
   */
  private held: AudioItem | undefined;
  private heldBytes = 0;
  private readonly sendChunk: SendChunk = { epoch: 0, sentenceId: 0, bytes: EMPTY_BYTES, durationMs: 0 };
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
  /** The start cushion in bytes (0: off), and the most the held pieces may come to (≥ pieceBytes). */
  private readonly cushionBytes: number;
  private readonly heldMaxBytes: number;
  /** The hold of a dry player's first pieces for their cushion: its timer (undefined: not holding), and whether it ran out. */
  private cushionTimer: ReturnType<typeof setTimeout> | undefined;
  private cushionHoldOver = false;
  private readonly perMs: number;
  /** `whenPlayedOut` callers, woken at every played report, drop and close. */
  private readonly playedOutWaiters = new WaiterList();
  private lastSentItemId: string | undefined;
  /** The queue's generation: `dropAll` starts a new one (see AudioItem). */
  private generation = 0;
  /** What the caller was sent and has not confirmed playing (`replayable`), else undefined. */
  private readonly sentLog: SentAudioLog | undefined;
  /** `hold()` stopped the sending until `resume()` or `dropAll()`. */
  private holding = false;
  /** Audio sent before a hold that the caller did not hear: it goes out again, before the queue (`resume()`). */
  private replay: Replay | undefined;
  private replayIndex = 0;
  private replayMs = 0;
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
    this.cushionBytes = Math.round((options.startCushion?.ms ?? 0) * this.perMs);
    this.heldMaxBytes = Math.max(this.pieceBytes, this.cushionBytes);
    // What the queue's cap admits, the held pieces, and one piece a producer is placing.
    this.ring = new ByteRing(Math.ceil(options.queueMs * this.perMs) + this.heldMaxBytes + this.pieceBytes, Math.min(4096, this.pieceBytes * 2));
    this.stall = new WaitDeadline(options.playoutStallMs, options.now, () => this.stalled());
    if (options.replayable === true) {
      // Credit keeps what is sent and unconfirmed within the window and the prediction lead (plus
      // one send past a window that shrank): the log's bound only stops a bug.
      const unconfirmedMs = MAX_WINDOW_MS + (options.predictionLeadMs ?? DEFAULT_LEAD_MS);
      this.sentLog = new SentAudioLog({
        maxBytes: Math.ceil(unconfirmedMs * this.perMs) + 2 * this.heldMaxBytes,
        bytesPerMs: this.perMs,
        frameBytes: bytesPerSample(options.format),
        maxEntries: 1024,
      });
    }
  }

  /** Model audio waiting in the gateway: the queue plus the piece held for credit. */
  get queuedMs(): number {
    return this.queue.queuedMs + this.heldBytes / this.perMs + this.replayMs;
  }

  /** Bytes of storage the queued audio occupies now (0 when idle). */
  get storageBytes(): number {
    return this.ring.storageBytes + (this.sentLog?.storageBytes ?? 0) + (this.replay?.bytes.length ?? 0);
  }

  /** Most bytes of storage the queued audio may ever occupy (from `queueMs`, `sendChunkMs` and the format). */
  get maxStorageBytes(): number {
    // The ring and its wrap scratch (≤ one send); the sent log and a replay taken from it.
    return this.ring.maxBytes + this.heldMaxBytes + 2 * (this.sentLog?.maxBytes ?? 0);
  }

  /** The caller's confirmed played position in the current epoch (ms). */
  get playedMs(): number {
    return this.tracker.playedMs;
  }

  /** True while audio is queued, or sent but not confirmed played, or held (`hold()`). */
  get hasUnplayed(): boolean {
    return this.holding || this.tracker.sentMs > this.tracker.playedMs || this.queuedMs > 0;
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
    const marker: SentenceEndItem = { kind: 'sentence-end', generation: this.generation, sentenceId, durationMs: 0 };
    if (!this.options.pausable) {
      if (!this.queue.tryWrite(marker)) return false;
      this.pump();
      return true;
    }
    // A zero-length marker always fits; it waits only for the pieces written before it.
    this.writeChain = this.writeChain.then(() => {
      if (marker.generation === this.generation && this.queue.tryWrite(marker)) this.pump();
    });
    return true;
  }

  /** The caller's cumulative played position in the current epoch; sends what the credit it frees covers. */
  played(playedMs: number): void {
    const sample = this.credit.played(playedMs);
    const now = this.options.now();
    this.tracker.confirm(playedMs, now);
    this.sentLog?.played(playedMs);
    if (this.tuner) this.retune((sample && this.tuner.observe(sample, now)) ?? this.tuner.tick(now));
    this.playedOutWaiters.wakeAll();
    this.pump();
    if (!this.hasUnplayed) this.ring.releaseStorage(); // the caller played everything: idle until the next response
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
    const report = this.report(now, this.queuedMs);
    this.generation++;
    this.queue.abort('barge-in');
    this.dropHeld();
    this.ring.clear();
    this.sentLog?.clear();
    this.dropReplay();
    this.holding = false;
    this.restartTimeline();
    return report;
  }

  /**
   * The caller was told to clear its player, on a guess (the gateway's own VAD): stop sending, keep
   * everything queued, and restart the credit with the new epoch, as `dropAll` would. `resume()`
   * then sends again what the caller did not hear and goes on with the queue; `dropAll()` makes it
   * a barge-in. Returns what the caller heard, as `dropAll` does (nothing dropped yet).
   */
  hold(now: number): DropReport {
    const report = this.report(now, 0);
    this.holding = true;
    this.stopWaiting(); // the held pieces stay, their wait for credit starts again at resume
    this.restartTimeline();
    return report;
  }

  /**
   * Ends a hold: what the caller was sent from `heardMs` (on the held epoch's timeline) on goes
   * out again first, then the queue. Returns the audio sent again (ms) and where it starts on the
   * old timeline (later than `heardMs` only if the log had to forget unconfirmed audio). Without
   * `replayable`, nothing is sent again.
   */
  resume(heardMs: number): { replayMs: number; fromMs: number } {
    if (!this.holding) return { replayMs: 0, fromMs: heardMs };
    this.holding = false;
    const unheard = this.sentLog?.takeFrom(heardMs);
    // A replay this hold interrupted: what it had not sent yet follows.
    const replay = unheard && this.replay ? joinReplays(unheard, this.replay, this.replayIndex, this.perMs) : unheard;
    this.dropReplay();
    if (replay !== undefined && replay.entries.length > 0) {
      this.replay = replay;
      this.replayMs = replay.durationMs;
    }
    this.pump();
    if (!this.hasUnplayed) this.ring.releaseStorage(); // the caller had heard everything: idle
    return { replayMs: replay?.durationMs ?? 0, fromMs: unheard?.startMs ?? heardMs };
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
    this.dropHeld();
    this.ring.clear();
    this.sentLog?.clear();
    this.dropReplay();
    this.holding = false;
    this.stall.cancel();
    this.queue.abort('call ended');
    this.queue.close();
    this.credit.abort('call ended');
    this.tracker.reset();
    this.playedOutWaiters.failAll(vwError('VW_ERR_CLOSED', 'call ended'));
    this.finished?.resolve();
  }

  /** What the caller heard of the current epoch at `now` (its timeline frozen), and `droppedMs`. */
  private report(now: number, droppedMs: number): DropReport {
    const heardMs = this.tracker.estimatePlayed(now);
    const playing = this.tracker.sentMs > 0 ? this.tracker.itemAt(heardMs) : undefined;
    return {
      droppedMs,
      heardMs,
      confirmedMs: this.tracker.playedMs,
      heard: playing && { itemId: playing.itemId, audioEndMs: this.tracker.playedOfItem(playing.itemId, heardMs) },
      timeline: this.tracker.freeze(),
    };
  }

  /** The caller's player was cleared: credit, the timeline and the sent log start again with the new epoch. */
  private restartTimeline(): void {
    this.credit.abort('barge-in'); // drops the pump's credit wake-up
    this.credit.reset();
    this.tracker.reset();
    this.lastSentItemId = undefined;
    this.playedOutWaiters.wakeAll();
  }

  private dropReplay(): void {
    this.replay = undefined;
    this.replayIndex = 0;
    this.replayMs = 0;
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
    // Every pass re-reads the state: a send may have closed the path, dropped the queue, held or played.
    while (!this.closed && !this.holding) {
      if (this.replay !== undefined) { // what the caller did not hear before a hold goes first
        if (this.sendReplayed(this.replay)) continue;
        return; // waiting for credit
      }
      let first = this.held;
      if (first === undefined) {
        const item: OutboundItem | undefined = this.queue.tryRead();
        if (item === undefined) return; // empty: the next delivery pumps
        if (item.generation !== this.generation) { // stale (a barge-in came after it was queued): dropped
          if (item.kind === 'audio') this.ring.release(item.position + item.length);
          continue;
        }
        if (item.kind === 'sentence-end') {
          this.sentenceEndSent(item.sentenceId);
          continue;
        }
        this.held = first = item;
        this.heldBytes = item.length;
      } else if (first.generation !== this.generation) {
        this.ring.release(first.position + this.heldBytes);
        this.dropHeld();
        continue;
      }
      const cushion = this.cushionBytes > 0 ? this.cushionFor() : 0;
      this.gather(first, Math.max(this.pieceBytes, cushion));
      if (cushion > 0 && this.holdForCushion(cushion)) return;
      const durationMs = this.heldBytes / this.perMs;
      if (!this.credit.trySpend(durationMs)) {
        this.waitForCredit(durationMs);
        return;
      }
      const end = first.position + this.heldBytes;
      const bytes = this.ring.view(first.position, this.heldBytes);
      this.dropHeld();
      this.send(first.itemId, first.sentenceId, bytes, durationMs);
      // Released only now: a delivery inside sendAudio must not overwrite the bytes being sent.
      this.ring.release(end);
    }
  }

  /** Sends `bytes` (the credit for them spent) in the current epoch, booked on its timeline. */
  private send(itemId: string, sentenceId: number, bytes: Uint8Array, durationMs: number): void {
    const chunk = this.sendChunk;
    chunk.epoch = this.options.epochs.current;
    chunk.sentenceId = sentenceId;
    chunk.bytes = bytes;
    chunk.durationMs = durationMs;
    const now = this.options.now();
    // Dry in the middle of an item: the caller heard a gap (the gateway's estimate).
    if (itemId === this.lastSentItemId && this.tracker.estimatePlayed(now) >= this.tracker.sentMs) {
      this.underruns++;
      this.retune(this.tuner?.underrun(now));
    }
    this.sentLog?.audio(itemId, sentenceId, this.tracker.sentMs, bytes);
    // Book the send before making it: a barge-in inside sendAudio must find it on the old timeline.
    this.tracker.sent(itemId, durationMs, now);
    this.lastSentItemId = itemId;
    this.maxBufferedMs = Math.max(this.maxBufferedMs, this.credit.inFlightMs);
    this.options.transport.sendAudio(chunk);
    chunk.bytes = EMPTY_BYTES;
  }

  private sentenceEndSent(sentenceId: number): void {
    this.sentLog?.sentenceEnd(sentenceId, this.tracker.sentMs);
    this.options.transport.endSentence(this.options.epochs.current, sentenceId);
  }

  /**
   * Sends the next entry of the replay (one send each: they were sends before); false when it waits
   * for credit. The replay's bytes are its own copy, so nothing is released.
   */
  private sendReplayed(replay: Replay): boolean {
    const entry = replay.entries[this.replayIndex];
    if (entry === undefined) {
      this.dropReplay();
      return true;
    }
    if (entry.kind === 'sentence-end') {
      this.replayIndex++;
      this.sentenceEndSent(entry.sentenceId);
      return true;
    }
    const durationMs = entry.length / this.perMs;
    if (!this.credit.trySpend(durationMs)) {
      this.waitForCredit(durationMs);
      return false;
    }
    this.stall.end();
    this.replayIndex++;
    this.replayMs = Math.max(0, this.replayMs - durationMs);
    this.send(entry.itemId, entry.sentenceId, replay.bytes.subarray(entry.offset, entry.offset + entry.length), durationMs);
    return true;
  }

  /**
   * Adds to the held pieces those queued right behind them that continue `first` (same generation, item
   * and sentence, next in the ring) while the total stays within `limitBytes` (`sendChunkMs`, or
   * the start cushion for a dry player). Only what is already queued joins.
   */
  private gather(first: AudioItem, limitBytes: number): void {
    for (let next = this.queue.peek(); next !== undefined; next = this.queue.peek()) {
      if (next.kind !== 'audio' || next.generation !== first.generation || next.itemId !== first.itemId || next.sentenceId !== first.sentenceId) return;
      if (this.heldBytes + next.length > limitBytes || next.position !== first.position + this.heldBytes) return;
      this.queue.tryRead();
      this.heldBytes += next.length;
    }
  }

  /**
   * The cushion (bytes) the held pieces are gathered up to when the caller's player is dry by the
   * credit's model (nothing sent is unplayed), else 0; at most half the window, so credit covers it.
   */
  private cushionFor(): number {
    if (this.heldBytes >= this.cushionBytes || this.credit.inFlightMs > 0) return 0;
    return Math.min(this.cushionBytes, Math.floor((this.credit.windowMs / 2) * this.perMs));
  }

  /**
   * Whether the held start of a dry player's audio waits for more: it is short of the cushion,
   * nothing queued behind it could join (another item, sentence or a sentence end: its sentence is
   * complete), and the hold, which runs from its first piece, has time left.
   */
  private holdForCushion(cushion: number): boolean {
    if (this.cushionHoldOver || this.heldBytes >= cushion || this.queue.peek() !== undefined) return false;
    this.cushionTimer ??= setTimeout(this.onCushionHeld, this.options.startCushion?.holdMs ?? 0);
    return true;
  }

  private readonly onCushionHeld = (): void => {
    this.cushionHoldOver = true;
    this.pump();
  };

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
    this.held = undefined;
    this.heldBytes = 0;
    this.stopWaiting();
  }

  /** No wait for credit or for a cushion is in progress (their timers are off). */
  private stopWaiting(): void {
    this.stall.end();
    if (this.cushionTimer !== undefined) {
      clearTimeout(this.cushionTimer);
      this.cushionTimer = undefined;
    }
    this.cushionHoldOver = false;
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
    const generation = this.generation;
    const bytes = chunk.bytes;
    for (let offset = 0; offset < bytes.length; offset += this.pieceBytes) {
      const end = Math.min(offset + this.pieceBytes, bytes.length);
      if (!this.tryQueue(this.piece(chunk, generation, offset, end))) {
        this.options.onCap(chunk.responseId, (bytes.length - offset) / this.perMs);
        break;
      }
    }
    this.pump();
  }

  /** Queues `item` if it fits now; its bytes leave the ring again when it does not (or throws). */
  private tryQueue(item: AudioItem): boolean {
    let queued = false;
    try {
      queued = this.queue.tryWrite(item);
    } finally {
      if (!queued) this.ring.truncate(item.position);
    }
    return queued;
  }

  /** Queues a pausable delivery piece by piece, waiting for room; each piece is sent when credit allows. */
  private async writePausable(chunk: ModelAudio): Promise<void> {
    if (this.closed) return;
    const generation = this.generation;
    const bytes = chunk.bytes;
    for (let offset = 0; offset < bytes.length; offset += this.pieceBytes) {
      const item = this.piece(chunk, generation, offset, Math.min(offset + this.pieceBytes, bytes.length));
      // While it waits for room its bytes wait at the end of the ring (the ring's bound counts one
      // such piece); only one pausable write waits at a time (the chain), so ring order is queue order.
      try {
        if (!this.queue.tryWrite(item)) await this.queue.write(item);
      } catch (err) {
        this.ring.truncate(item.position); // behind the head already when a barge-in or close cleared the ring
        if (isVoicewireError(err, 'VW_ERR_ABORTED') || isVoicewireError(err, 'VW_ERR_CLOSED')) return;
        throw err;
      }
      this.pump();
      if (generation !== this.generation) return;
    }
  }

  /** A piece of `chunk` (bytes `offset`..`end`), its bytes copied to the end of the ring. */
  private piece(chunk: ModelAudio, generation: number, offset: number, end: number): AudioItem {
    const bytes = chunk.bytes;
    const position = this.ring.push(offset === 0 && end === bytes.length ? bytes : bytes.subarray(offset, end));
    return { kind: 'audio', generation, itemId: chunk.itemId, sentenceId: chunk.sentenceId, position, length: end - offset, durationMs: (end - offset) / this.perMs };
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
