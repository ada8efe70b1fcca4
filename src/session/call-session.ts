/**
 * One call: wires a caller transport to a model through the flow primitives.
 *
 *   caller audio ──────────────────────────────► model.appendAudio (the backend bounds its own input)
 *   model audio ─► AudioQueue (ms, capped) ─► CreditGate (window − unplayed) ─► transport.sendAudio
 *   caller played reports ─► CreditGate.played + PlayoutTracker.confirm
 *   model speechStarted ─► barge-in: new epoch, abort queue, clear caller, cancel + truncate model
 *
 * The model socket is never paused (its control events share it with the audio), so a backend that
 * cannot be slowed (Realtime) fills the queue up to its cap and the response is cancelled there; a
 * backend that can be slowed (the cascade) waits on the queue instead.
 */
import type { Logger } from 'pino';
import { bytesPerMs, type AudioFormat } from '../audio/format.js';
import { isVoicewireError, vwError, type VoicewireError } from '../errors.js';
import { AudioQueue } from '../flow/audio-queue.js';
import { CreditGate } from '../flow/credit-gate.js';
import { EpochClock } from '../flow/epoch.js';
import { PlayoutTracker } from '../flow/playout-tracker.js';
import type { ModelAudio, ModelFactory, ModelSession } from '../models/model.js';
import type { CallStart, CallerTransport } from '../transports/transport.js';
import { RecentIds } from './recent-ids.js';
import type { SessionObserver, SessionSample } from './observer.js';

export interface CallSessionOptions {
  readonly transport: CallerTransport;
  readonly createModel: ModelFactory;
  readonly logger: Logger;
  /** Default credit window (ms) when the caller does not ask for one. */
  readonly creditWindowMs: number;
  /** Cap of model audio queued for the caller (ms); past it the response is cancelled. */
  readonly maxQueuedAudioMs: number;
  /** Queue bound for a pausable backend (ms): a full queue pauses it. */
  readonly pausableQueueMs?: number;
  /**
   * Longest piece of model audio sent in one message (ms). Credit is spent per piece, so the
   * caller never holds more than the window; larger pieces mean fewer messages (CPU) and fewer
   * queue items (memory). Default 100.
   */
  readonly sendChunkMs?: number;
  /** A chunk may wait this long for credit before the call is declared stalled. */
  readonly playoutStallMs?: number;
  readonly sampleEveryMs?: number;
  readonly observer?: SessionObserver;
  readonly now?: () => number;
}

type SessionState = 'awaiting-start' | 'connecting' | 'active' | 'ended';

interface AudioItem {
  readonly kind: 'audio';
  readonly epoch: number;
  readonly responseId: string;
  readonly itemId: string;
  readonly sentenceId: number;
  readonly bytes: Uint8Array;
  readonly durationMs: number;
}

interface SentenceEndItem {
  readonly kind: 'sentence-end';
  readonly epoch: number;
  readonly responseId: string;
  readonly sentenceId: number;
  readonly durationMs: 0;
}

type OutboundItem = AudioItem | SentenceEndItem;

const DEFAULT_PAUSABLE_QUEUE_MS = 4_000;
const DEFAULT_PLAYOUT_STALL_MS = 15_000;
const DEFAULT_SEND_CHUNK_MS = 100;

export class CallSession {
  private state: SessionState = 'awaiting-start';
  private model: ModelSession | undefined;
  private format: AudioFormat | undefined;
  private queue: AudioQueue<OutboundItem> | undefined;
  private credit: CreditGate | undefined;
  private readonly epochs = new EpochClock();
  private readonly tracker = new PlayoutTracker();
  /** Responses the session interrupted or cancelled: their late audio is dropped. Bounded. */
  private readonly droppedResponses = new RecentIds(64);
  private activeResponseId: string | undefined;
  /** The chunk the pump has taken from the queue and holds while it waits for credit. */
  private held: AudioItem | undefined;
  /** Tail of the chain of pausable writes (see onModelAudio). */
  private writeChain: Promise<void> = Promise.resolve();
  private sampleTimer: NodeJS.Timeout | undefined;
  private logger: Logger;
  private readonly now: () => number;
  private readonly endedPromise: Promise<void>;
  private resolveEnded!: () => void;

  constructor(private readonly options: CallSessionOptions) {
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
    options.transport.attach({
      start: (info) => this.onStart(info),
      audio: (bytes, ms) => this.model?.appendAudio(bytes, ms),
      played: (epoch, playedMs) => this.onPlayed(epoch, playedMs),
      sentencePlayed: (epoch, sentenceId) => this.onSentencePlayed(epoch, sentenceId),
      dtmf: (digit) => this.logger.info({ digit }, 'dtmf'),
      badInput: (error) => this.onBadInput(error),
      closed: (code, reason, error) => this.end(`caller closed (${code} ${reason})`, error),
    });
  }

  /** Resolves when the call has ended and everything it held is released. */
  get ended(): Promise<void> {
    return this.endedPromise;
  }

  get currentState(): SessionState {
    return this.state;
  }

  /** A method, not a field read, so the compiler does not narrow it across awaits. */
  private isEnded(): boolean {
    return this.state === 'ended';
  }

  /** A snapshot of the call's flow state (for metrics, the browser's stats and tests). */
  snapshot(): SessionSample {
    return {
      creditMs: this.credit?.credit ?? 0,
      windowMs: this.credit?.windowMs ?? 0,
      callerBufferedMs: this.credit?.inFlightMs ?? 0,
      queuedMs: this.queuedMs(),
      epoch: this.epochs.current,
      transportBufferedBytes: this.options.transport.bufferedAmount(),
      modelBufferedBytes: this.model?.bufferedAmount?.() ?? 0,
    };
  }

  /** Model audio waiting in the gateway: the queue plus the chunk held for credit. */
  private queuedMs(): number {
    return (this.queue?.queuedMs ?? 0) + (this.held?.durationMs ?? 0);
  }

  private onStart(info: CallStart): void {
    if (this.state !== 'awaiting-start') return;
    this.state = 'connecting';
    this.logger = this.logger.child({ callSid: info.callId, streamSid: info.streamId });
    this.format = info.format;
    const model = this.options.createModel({ callerFormat: info.format, callId: info.callId });
    this.model = model;
    this.credit = new CreditGate({ windowMs: info.creditWindowMs ?? this.options.creditWindowMs });
    this.queue = model.pausable
      ? new AudioQueue<OutboundItem>({ highWaterMarkMs: this.options.pausableQueueMs ?? DEFAULT_PAUSABLE_QUEUE_MS })
      : new AudioQueue<OutboundItem>({ highWaterMarkMs: this.options.maxQueuedAudioMs, overflow: 'reject' });
    model.attach({
      speechStarted: () => this.onSpeechStarted(),
      speechStopped: () => this.logger.debug('caller speech stopped'),
      responseStarted: (id) => this.onResponseStarted(id),
      audio: (chunk) => this.onModelAudio(chunk),
      sentenceEnd: (responseId, sentenceId) => this.onSentenceEnd(responseId, sentenceId),
      responseDone: (id, status) => this.onResponseDone(id, status),
      transcript: (id, text) => {
        this.logger.debug({ responseId: id, text }, 'transcript');
        this.options.observer?.transcript?.(id, text);
      },
      error: (error) => this.onModelError(error),
      closed: (reason, error) => this.onModelClosed(reason, error),
    });
    this.options.observer?.started?.(info, model.backend);
    this.logger.info({ backend: model.backend, window: this.credit.windowMs }, 'call started');
    this.sampleTimer = setInterval(() => this.sample(), this.options.sampleEveryMs ?? 500);
    this.sampleTimer.unref();
    this.pump().catch((err: unknown) => {
      // A bug, not a peer's doing: end this call loudly rather than leave it parked, and keep the
      // process (and every other call) running.
      this.logger.error({ err }, 'audio pump failed');
      this.closeCall(vwError('VW_ERR_INTERNAL', String(err)));
    });
    model.connect().then(
      () => {
        if (this.state === 'connecting') this.state = 'active';
      },
      (err: unknown) => {
        const error = isVoicewireError(err) ? err : vwError('VW_ERR_MODEL_CONNECT', String(err));
        this.logger.error({ err: error, code: error.code }, 'model connection failed');
        this.closeCall(error);
      },
    );
  }

  /** Sends queued model audio to the caller as credit allows; one loop per call. */
  private async pump(): Promise<void> {
    const queue = this.queue;
    const credit = this.credit;
    if (!queue || !credit) return;
    while (this.state !== 'ended') {
      let item: OutboundItem | undefined;
      try {
        item = await queue.read();
      } catch (err) {
        if (isVoicewireError(err, 'VW_ERR_ABORTED')) continue; // barge-in emptied the queue
        throw err;
      }
      if (item === undefined) return; // closed: the call ended
      if (item.epoch !== this.epochs.current) continue;
      if (item.kind === 'sentence-end') {
        this.options.transport.endSentence(item.epoch, item.sentenceId);
        continue;
      }
      this.held = item;
      try {
        await credit.spend(item.durationMs, { timeoutMs: this.options.playoutStallMs ?? DEFAULT_PLAYOUT_STALL_MS });
      } catch (err) {
        this.held = undefined;
        if (isVoicewireError(err, 'VW_ERR_ABORTED')) continue;
        if (isVoicewireError(err, 'VW_ERR_DEADLINE')) {
          this.closeCall(vwError('VW_ERR_PLAYOUT_STALLED', this.options.playoutStallMs ?? DEFAULT_PLAYOUT_STALL_MS));
          return;
        }
        throw err;
      }
      this.held = undefined;
      // A barge-in between the credit wait and now made this chunk stale: drop it.
      if (item.epoch !== this.epochs.current || this.isEnded()) continue;
      this.options.transport.sendAudio(item);
      this.tracker.sent(item.itemId, item.durationMs, this.now());
    }
  }

  /**
   * Model audio in arrival order. A pausable backend's writes wait for room, so each delivery is
   * chained after the previous one: frames of two deliveries never interleave, and a sentence-end
   * marker never overtakes its sentence's last frames.
   */
  private onModelAudio(chunk: ModelAudio): Promise<void> {
    if (!this.model?.pausable) return this.enqueueAudio(chunk);
    const next = this.writeChain.then(() => this.enqueueAudio(chunk));
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  private async enqueueAudio(chunk: ModelAudio): Promise<void> {
    const queue = this.queue;
    const format = this.format;
    if (!queue || !format || this.state === 'ended') return;
    if (this.droppedResponses.has(chunk.responseId)) {
      this.options.observer?.dropped?.('interrupted', chunk.durationMs);
      return;
    }
    // Pieces of at most sendChunkMs, as views into the delta (the backend hands it over for good):
    // one credit spend and one message per piece, never more credit than the window.
    const epoch = this.epochs.current;
    const frameBytes = Math.max(1, Math.round((this.options.sendChunkMs ?? DEFAULT_SEND_CHUNK_MS) * bytesPerMs(format)));
    const bytes = chunk.bytes;
    for (let offset = 0; offset < bytes.length; offset += frameBytes) {
      const end = Math.min(offset + frameBytes, bytes.length);
      const item: AudioItem = {
        kind: 'audio', epoch, responseId: chunk.responseId, itemId: chunk.itemId, sentenceId: chunk.sentenceId,
        bytes: bytes.subarray(offset, end), durationMs: (end - offset) / bytesPerMs(format),
      };
      if (this.model?.pausable) {
        try {
          await queue.write(item);
        } catch (err) {
          if (isVoicewireError(err, 'VW_ERR_ABORTED') || isVoicewireError(err, 'VW_ERR_CLOSED')) return;
          throw err;
        }
        if (epoch !== this.epochs.current) return;
      } else if (!queue.tryWrite(item)) {
        this.onQueueCap(chunk.responseId, (bytes.length - offset) / bytesPerMs(format));
        return;
      }
    }
  }

  private onQueueCap(responseId: string, droppedMs: number): void {
    this.logger.warn({ responseId, capMs: this.options.maxQueuedAudioMs, code: 'VW_ERR_QUEUE_CAP' }, 'model audio queue at its cap: cancelling the response');
    this.droppedResponses.add(responseId);
    this.options.observer?.dropped?.('queue-cap', droppedMs);
    this.options.observer?.responseCancelled?.('queue-cap');
    this.model?.interrupt(undefined);
  }

  private onSentenceEnd(responseId: string, sentenceId: number): void {
    const queue = this.queue;
    if (!queue || this.droppedResponses.has(responseId)) return;
    const marker: SentenceEndItem = { kind: 'sentence-end', epoch: this.epochs.current, responseId, sentenceId, durationMs: 0 };
    if (this.model?.pausable) {
      // A zero-length marker always fits; it waits only for the frames written before it.
      this.writeChain = this.writeChain.then(() => {
        if (marker.epoch === this.epochs.current) queue.tryWrite(marker);
      });
    } else if (!queue.tryWrite(marker)) {
      this.logger.debug({ responseId, sentenceId }, 'sentence end not queued (queue at its cap)');
    }
  }

  private onResponseStarted(responseId: string): void {
    this.activeResponseId = responseId;
    this.logger.debug({ responseId }, 'response started');
  }

  private onResponseDone(responseId: string, status: string): void {
    if (this.activeResponseId === responseId) this.activeResponseId = undefined;
    this.logger.debug({ responseId, status }, 'response done');
  }

  /**
   * Barge-in: drop, never flush. Everything queued is dropped, the caller is told to `clear` (even
   * when everything was already sent: its player still holds up to a window), the model cancels
   * what it is generating and truncates its item at what the caller actually heard.
   */
  private onSpeechStarted(): void {
    const queue = this.queue;
    const credit = this.credit;
    if (!queue || !credit || this.state === 'ended') return;
    const startedAt = this.now();
    const somethingToStop = this.tracker.sentMs > this.tracker.playedMs || queue.queuedMs > 0 || this.activeResponseId !== undefined;
    // Everything sent was confirmed played, nothing queued, nothing generating: the caller is
    // simply taking their turn. A clear and a truncate at the item's end would be noise.
    if (!somethingToStop) return;
    const heardMs = this.tracker.estimatePlayed(startedAt);
    const playing = this.tracker.sentMs > 0 ? this.tracker.itemAt(heardMs) : undefined;

    const newEpoch = this.epochs.advance();
    const droppedMs = this.queuedMs();
    queue.abort('barge-in');
    credit.abort('barge-in');
    credit.reset();
    this.options.transport.clear(newEpoch);
    const clearLatencyMs = this.now() - startedAt;

    if (this.activeResponseId !== undefined) this.droppedResponses.add(this.activeResponseId);
    const heard = playing && { itemId: playing.itemId, audioEndMs: this.tracker.playedOfItem(playing.itemId, heardMs) };
    this.model?.interrupt(heard);
    this.options.observer?.bargeIn?.({
      clearLatencyMs,
      droppedMs,
      truncateUncertaintyMs: heardMs - this.tracker.playedMs,
    });
    this.logger.info(
      { epoch: newEpoch, droppedMs, heardMs, truncate: heard, responseActive: this.activeResponseId !== undefined },
      'barge-in: dropped queued audio and cleared the caller',
    );
    this.tracker.reset();
    if (droppedMs > 0) this.options.observer?.dropped?.('barge-in', droppedMs);
  }

  private onPlayed(epoch: number, playedMs: number): void {
    if (!this.epochs.isCurrent(epoch)) return; // an echo from before a clear
    this.credit?.played(playedMs);
    this.tracker.confirm(playedMs, this.now());
  }

  private onSentencePlayed(epoch: number, sentenceId: number): void {
    if (!this.epochs.isCurrent(epoch)) return;
    this.model?.sentencePlayed?.(sentenceId);
  }

  private onBadInput(error: VoicewireError): void {
    this.options.observer?.badInput?.(error.code);
    this.logger.warn({ code: error.code, err: error.message }, 'bad input from caller');
  }

  private onModelError(error: VoicewireError): void {
    this.options.observer?.modelError?.(error.code);
    this.logger.warn({ code: error.code, err: error.message }, 'model error');
  }

  private onModelClosed(reason: string, error: VoicewireError | undefined): void {
    if (this.state === 'ended') return;
    this.logger.error({ reason, code: error?.code }, 'model connection ended');
    this.closeCall(error ?? vwError('VW_ERR_MODEL_UNAVAILABLE', reason));
  }

  private sample(): void {
    if (this.state === 'ended') return;
    this.options.observer?.sample?.(this.snapshot());
  }

  /** Ends the call from our side with the error's close code. */
  closeCall(error: VoicewireError): void {
    if (this.state === 'ended') return;
    this.options.transport.close(error.closeCode ?? 1011, error.code);
    this.end(error.message, error);
  }

  /** Releases everything the call holds; idempotent. */
  end(reason: string, error?: VoicewireError): void {
    if (this.state === 'ended') return;
    const wasStarted = this.state !== 'awaiting-start';
    this.state = 'ended';
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    this.queue?.abort('call ended');
    this.queue?.close();
    this.credit?.abort('call ended');
    this.model?.close();
    this.tracker.reset();
    this.logger.info({ reason, code: error?.code }, 'call ended');
    if (wasStarted) this.options.observer?.ended?.();
    this.resolveEnded();
  }
}
