/**
 * One call: wires a caller transport to a model through the flow primitives.
 *
 *   caller audio ──────────────────────────────► model.appendAudio (the backend bounds its own input)
 *   model audio ─► OutboundAudio (queue in ms ─► credit ─► transport.sendAudio; see outbound.ts)
 *   model speechStarted ─► barge-in: new epoch, drop everything queued, clear the caller, cancel
 *                          the model's answer; truncate it at what the caller heard once the
 *                          caller confirms the clear (truncation.ts)
 *   gateway's VAD hears speech (`localBargeInMs`) ─► clear the caller and hold the answer; the
 *                          model's speech start within the hold makes it the barge-in above, none
 *                          is a false start: the answer resumes from what the caller heard
 *
 * The model socket is never paused (its control events share it with the audio), so a backend that
 * cannot be slowed (Realtime) fills the queue up to its cap and the response is cancelled there; a
 * backend that can be slowed (the cascade) waits on the queue instead.
 */
import type { Logger } from 'pino';
import { isVoicewireError, vwError, type VoicewireError } from '../errors.js';
import { EpochClock } from '../flow/epoch.js';
import { HEARD_PENDING, type ModelAudio, type ModelEvents, type ModelSession, type ModelToolCall, type TokenUsage } from '../models/model.js';
import { creditWindow, modelSettings, type CallPlan } from '../agent/services.js';
import { AgentBridge } from './agent-bridge.js';
import { OutboundAudio, type DropReport } from './outbound.js';
import type { CallStart, TransportEvents } from '../transports/transport.js';
import { RecentIds } from './recent-ids.js';
import type { BargeInTrigger, SessionSample, SilenceReport, TruncateSource } from './observer.js';
import { PendingTruncation, streamedUntil, type EchoStamp, type HeardAt } from './truncation.js';
import { CallerTimings } from './caller-timings.js';
import { LocalSpeechDetector } from './local-speech.js';
import {
  DEFAULT_PAUSABLE_QUEUE_MS, DEFAULT_PLAYOUT_STALL_MS, DEFAULT_SEND_CHUNK_MS, DEFAULT_START_CUSHION_MS, DEFAULT_START_HOLD_MS, DEFAULT_TRUNCATE_DEADLINE_MS,
  DEFAULT_LOCAL_BARGE_IN_HOLD_MS, type CallSessionOptions,
} from './call-session-options.js';

export type { CallSessionOptions } from './call-session-options.js';

/** `setting-up`: waiting for the call's setup (webhook) before the model is created. */
type SessionState = 'awaiting-start' | 'setting-up' | 'connecting' | 'active' | 'ended';

export class CallSession {
  private state: SessionState = 'awaiting-start';
  private model: ModelSession | undefined;
  private outbound: OutboundAudio | undefined;
  private readonly epochs = new EpochClock();
  /** Responses the session interrupted or cancelled: their late audio is dropped. Bounded. */
  private readonly droppedResponses = new RecentIds(64);
  private activeResponseId: string | undefined;
  private sampleTimer: NodeJS.Timeout | undefined;
  private logger: Logger;
  private readonly now: () => number;
  private readonly endedPromise: Promise<void>;
  private resolveEnded!: () => void;
  private agent: AgentBridge | undefined;
  private startedAt = 0;
  /** Caller-side latencies from the played reports (first audio, barge-in → silence). */
  private readonly timings = new CallerTimings();
  /** Close code of the caller's connection, once known (ours or theirs). */
  private closeCode: number | undefined;
  /** Underruns of the outbound path already reported to the observer. */
  private underrunsReported = 0;
  private turns = 0;
  private bargeIns = 0;
  private speechStarts = 0;
  /** The last barge-in, until the caller confirms its clear (or the deadline). */
  private pendingTruncation: PendingTruncation | undefined;
  private truncateTimer: NodeJS.Timeout | undefined;
  /** Caller audio received so far (ms): the caller's clock, read at each played report (truncation.ts). */
  private callerAudioMs = 0;
  /** The last played report of the current epoch that moved its position. */
  private lastEcho: EchoStamp | undefined;
  /** The gateway's own VAD on the caller's audio (`localBargeInMs`), else undefined. */
  private localSpeech: LocalSpeechDetector | undefined;
  /** How long a local barge-in waits for the model's speech start (the call's setup, else the gateway's). */
  private localBargeInHoldMs = DEFAULT_LOCAL_BARGE_IN_HOLD_MS;
  /** A local barge-in holding the answer until the model hears the caller too (or does not, in time). */
  private localHold: LocalHold | undefined;
  /** What started the latest barge-in (its report may come later, when the truncation settles). */
  private bargeInTrigger: BargeInTrigger = 'model';

  constructor(private readonly options: CallSessionOptions) {
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.endedPromise = new Promise((resolve) => (this.resolveEnded = resolve));
    options.transport.attach(new CallSession.CallerHandlers(this));
  }

  /** Resolves when the call has ended and everything it held is released. */
  get ended(): Promise<void> {
    return this.endedPromise;
  }

  /** The call's model session once the call started (its stats are exported at the end). */
  get modelSession(): ModelSession | undefined {
    return this.model;
  }

  get currentState(): SessionState {
    return this.state;
  }

  /** A snapshot of the call's flow state (for metrics, the browser's stats and tests). */
  snapshot(): SessionSample {
    const credit = this.outbound?.credit;
    return {
      creditMs: credit?.credit ?? 0,
      windowMs: credit?.windowMs ?? 0,
      callerBufferedMs: credit?.inFlightMs ?? 0,
      queuedMs: this.outbound?.queuedMs ?? 0,
      epoch: this.epochs.current,
      transportBufferedBytes: this.options.transport.bufferedAmount(),
      modelBufferedBytes: this.model?.bufferedAmount?.() ?? 0,
    };
  }

  private onStart(info: CallStart): void {
    if (this.state !== 'awaiting-start') return;
    this.startedAt = this.now();
    this.options.observer?.starting?.(info);
    this.logger = withCallIds(this.logger, info);
    const agent = this.options.agent;
    if (agent === undefined) return this.begin(info, undefined);
    this.state = 'setting-up';
    this.agent = new AgentBridge(
      { ...agent, transport: this.options.transport.kind, logger: this.logger, now: this.now },
      {
        model: () => this.model,
        bargeIns: () => this.bargeIns,
        speechStarts: () => this.speechStarts,
        playedOut: (timeoutMs) => this.outbound?.whenPlayedOut({ timeoutMs }) ?? Promise.resolve(),
        playedMs: () => this.outbound?.playedMs ?? 0,
        hangUp: (reason) => this.hangUp(reason),
        ended: this.endedPromise,
      },
    );
    this.agent.prepare(info, this.logger).then(
      (plan) => {
        if (this.state !== 'setting-up') return; // the caller hung up during setup
        if (plan.setup.reject === true) return this.closeCall(vwError('VW_ERR_CALL_REJECTED', plan.source));
        this.begin(info, plan);
      },
      (err: unknown) => this.closeCall(vwError('VW_ERR_INTERNAL', String(err))),
    );
  }

  /** Creates the model and the audio path, with the call's plan (setup) when there is one. */
  private begin(info: CallStart, plan: CallPlan | undefined): void {
    this.state = 'connecting';
    const setup = plan?.setup;
    const model = this.options.createModel({ callerFormat: info.format, callId: info.callId, ...(plan ? { settings: modelSettings(plan) } : {}) });
    this.model = model;
    const windowMs = creditWindow(info.creditWindowMs, setup?.creditWindowMs, this.options.creditWindowMs);
    // A window the call's setup asks for is fixed; otherwise `auto` adapts, within the caller's capacity.
    const adaptive = this.options.adaptiveWindow === true && setup?.creditWindowMs === undefined;
    const outbound = new OutboundAudio({
      transport: this.options.transport,
      format: info.format,
      epochs: this.epochs,
      windowMs,
      ...(adaptive ? { adaptiveWindow: info.creditWindowMs === undefined ? {} : { maxMs: info.creditWindowMs } } : {}),
      // A carrier queues whatever it is sent, so credit may run ahead of its mark echoes on the
      // predicted playout. A browser's player is a ring bounded at the window that drops what does
      // not fit: credit must never run ahead of its reports (which come every 50 ms anyway).
      ...(this.options.transport.kind === 'browser' ? { predictionLeadMs: 0 } : {}),
      onWindow: (change) => {
        this.logger.info({ window: change.windowMs, previous: change.previousMs, reason: change.reason, needMs: change.needMs }, 'credit window changed');
        this.options.observer?.windowChanged?.(change);
      },
      pausable: model.pausable,
      queueMs: model.pausable ? (this.options.pausableQueueMs ?? DEFAULT_PAUSABLE_QUEUE_MS) : this.options.maxQueuedAudioMs,
      sendChunkMs: sendChunkFor(this.options.sendChunkMs ?? DEFAULT_SEND_CHUNK_MS, windowMs, info.creditWindowMs),
      startCushion: {
        ms: sendChunkFor(this.options.startCushionMs ?? DEFAULT_START_CUSHION_MS, windowMs, info.creditWindowMs),
        holdMs: this.options.startHoldMs ?? DEFAULT_START_HOLD_MS,
      },
      playoutStallMs: this.options.playoutStallMs ?? DEFAULT_PLAYOUT_STALL_MS,
      // A local barge-in's false start sends again what the caller did not hear.
      replayable: (setup?.localBargeInMs ?? this.options.localBargeInMs ?? 0) > 0,
      now: this.now,
      onCap: (responseId, droppedMs) => this.onQueueCap(responseId, droppedMs),
      onFatal: (error) => this.closeCall(error),
    });
    this.outbound = outbound;
    const localBargeInMs = setup?.localBargeInMs ?? this.options.localBargeInMs ?? 0;
    if (localBargeInMs > 0) this.localSpeech = new LocalSpeechDetector(info.format, localBargeInMs);
    this.localBargeInHoldMs = setup?.localBargeInHoldMs ?? this.options.localBargeInHoldMs ?? DEFAULT_LOCAL_BARGE_IN_HOLD_MS;
    model.attach(new CallSession.ModelHandlers(this));
    this.options.observer?.started?.(info, model.backend, outbound.credit.windowMs);
    this.logger.info({ backend: model.backend, window: outbound.credit.windowMs }, 'call started');
    this.sampleTimer = setInterval(() => this.sample(), this.options.sampleEveryMs ?? 500);
    this.sampleTimer.unref();
    outbound.run().catch((err: unknown) => {
      // A bug, not a peer's doing: end this call loudly rather than leave it parked, and keep the
      // process (and every other call) running.
      this.logger.error({ err }, 'audio pump failed');
      this.closeCall(vwError('VW_ERR_INTERNAL', String(err)));
    });
    model.connect().then(
      () => {
        if (this.state !== 'connecting') return;
        this.state = 'active';
        if (setup?.greeting !== undefined) model.greet?.(setup.greeting);
      },
      (err: unknown) => {
        const error = isVoicewireError(err) ? err : vwError('VW_ERR_MODEL_CONNECT', String(err));
        this.logger.error({ err: error, code: error.code }, 'model connection failed');
        this.closeCall(error);
      },
    );
  }

  private onModelAudio(chunk: ModelAudio): Promise<void> {
    if (!this.outbound || this.state === 'ended') return Promise.resolve();
    if (this.droppedResponses.has(chunk.responseId)) {
      this.options.observer?.dropped?.('interrupted', chunk.durationMs);
      return Promise.resolve();
    }
    // The next answer's audio: the truncation cannot wait any longer (Realtime never gets here:
    // it holds its next answer until heard()).
    this.settleTruncation('superseded');
    this.agent?.audio(chunk.responseId, chunk.durationMs);
    return this.outbound.enqueue(chunk);
  }

  private onQueueCap(responseId: string, droppedMs: number): void {
    this.logger.warn({ responseId, capMs: this.options.maxQueuedAudioMs, code: 'VW_ERR_QUEUE_CAP' }, 'model audio queue at its cap: cancelling the response');
    this.droppedResponses.add(responseId);
    this.options.observer?.dropped?.('queue-cap', droppedMs);
    this.options.observer?.responseCancelled?.('queue-cap');
    this.model?.interrupt(undefined);
  }

  private onSentenceEnd(responseId: string, sentenceId: number): void {
    if (!this.outbound || this.droppedResponses.has(responseId)) return;
    if (!this.outbound.endSentence(sentenceId)) {
      this.logger.debug({ responseId, sentenceId }, 'sentence end not queued (queue at its cap)');
    }
  }

  private onSpeechStopped(): void {
    this.timings.speechStopped(this.now());
    this.options.observer?.speechStopped?.();
    this.logger.debug('caller speech stopped');
  }

  private onResponseStarted(responseId: string): void {
    this.activeResponseId = responseId;
    this.turns++;
    this.agent?.responseStarted(responseId);
    this.options.observer?.responseStarted?.(responseId);
    const latencyMs = this.timings.responseStarted(responseId, this.now());
    if (latencyMs !== undefined) this.options.observer?.turnLatency?.(responseId, latencyMs);
    this.logger.debug({ responseId }, 'response started');
  }

  private onResponseDone(responseId: string, status: string, usage: TokenUsage | undefined): void {
    if (this.activeResponseId === responseId) this.activeResponseId = undefined;
    this.agent?.responseDone(responseId);
    this.options.observer?.responseDone?.(responseId, status, usage);
    this.logger.debug({ responseId, status }, 'response done');
  }

  private onSpeechStarted(): void {
    const outbound = this.outbound;
    if (!outbound || this.state === 'ended') return;
    this.speechStarts++;
    if (this.localHold !== undefined) this.confirmLocalHold(outbound, this.localHold);
    // Everything sent was confirmed played, nothing queued, nothing generating (or what is
    // generating was already interrupted, by the gateway's own VAD): the caller is simply taking
    // their turn. A clear and a truncate at the item's end would be noise.
    else if (this.answerAudible(outbound)) this.bargeIn(outbound);
    this.options.observer?.speechStarted?.();
  }

  /** The caller holds answer audio it has not played, or an answer not yet interrupted is generating. */
  private answerAudible(outbound: OutboundAudio): boolean {
    const active = this.activeResponseId;
    return outbound.hasUnplayed || (active !== undefined && !this.droppedResponses.has(active));
  }

  /**
   * The gateway's VAD heard the caller start speaking: clear the caller now rather than after the
   * audio crossed to the model and its VAD had its fill, but only hold the answer (queued, and the
   * model still generating) until the model hears the caller too. An energy VAD takes a cough or a
   * door for speech; the model's VAD then says nothing, and the answer goes on from what the caller
   * heard (`resumeAfterFalseStart`).
   */
  private onLocalSpeech(): void {
    const outbound = this.outbound;
    if (!outbound || this.state === 'ended' || this.localHold !== undefined || !this.answerAudible(outbound)) return;
    const startedAt = this.now();
    this.settleTruncation('superseded');
    const newEpoch = this.epochs.advance();
    const report = outbound.hold(startedAt);
    const pending = this.clearCaller(newEpoch, report, startedAt);
    const holdMs = this.localBargeInHoldMs;
    const timer = setTimeout(() => this.resumeAfterFalseStart(), holdMs);
    timer.unref();
    this.localHold = { pending, report, settled: undefined, silence: undefined, timer };
    this.logger.info({ epoch: newEpoch, holdMs, estimateMs: report.heardMs }, 'local barge-in: cleared the caller; holding the answer until the model hears speech');
  }

  /** The model heard the caller speak within the hold: the local barge-in stands; everything held is dropped. */
  private confirmLocalHold(outbound: OutboundAudio, hold: LocalHold): void {
    this.endLocalHold(hold, true);
    const startedAt = hold.pending.startedAt;
    const dropped = outbound.dropAll(this.now());
    hold.pending.addDropped(dropped.droppedMs);
    this.options.observer?.bargeInStarted?.(hold.pending.epoch);
    this.interruptModel('local', hold.pending, hold.report, hold.settled);
    if (hold.silence !== undefined) this.options.observer?.silenced?.(hold.silence);
    this.logger.info(
      { epoch: hold.pending.epoch, trigger: 'local', droppedMs: dropped.droppedMs, estimateMs: hold.report.heardMs, heldMs: this.now() - startedAt },
      'barge-in: dropped queued audio and cleared the caller',
    );
    if (dropped.droppedMs > 0) this.options.observer?.dropped?.('barge-in', dropped.droppedMs);
  }

  /** The hold ran out without the model hearing speech: a false start; the answer goes on from what the caller heard. */
  private resumeAfterFalseStart(): void {
    const hold = this.localHold;
    const outbound = this.outbound;
    if (hold === undefined || outbound === undefined || this.state === 'ended') return;
    this.endLocalHold(hold, false);
    // The caller's confirmation of the clear dates what it heard; without one, the estimate when
    // the clear left (short by what played while it crossed: the caller hears that again).
    const heardMs = hold.settled?.point.heardMs ?? hold.report.heardMs;
    const resumed = outbound.resume(heardMs);
    this.agent?.answerResumed(resumed.fromMs);
    this.logger.warn(
      { epoch: hold.pending.epoch, heardMs, replayMs: resumed.replayMs, fromMs: resumed.fromMs, source: hold.settled === undefined ? 'estimate' : 'marker' },
      'local barge-in: the model did not hear the caller speak (a false start?); the answer resumes where the caller stopped hearing it',
    );
  }

  private endLocalHold(hold: LocalHold, confirmed: boolean): void {
    clearTimeout(hold.timer);
    this.localHold = undefined;
    this.options.observer?.localBargeIn?.(confirmed);
  }

  /**
   * Barge-in: drop, never flush. Everything queued is dropped, the caller is told to `clear` (even
   * when everything was already sent: its player still holds up to a window) and the model cancels
   * what it is generating, now. Where to truncate is settled when the caller confirms the clear
   * (truncation.ts): audio kept playing while the clear crossed the link.
   */
  private bargeIn(outbound: OutboundAudio): void {
    const startedAt = this.now();
    this.settleTruncation('superseded');
    const newEpoch = this.epochs.advance();
    const report = outbound.dropAll(startedAt);
    const pending = this.clearCaller(newEpoch, report, startedAt);
    this.options.observer?.bargeInStarted?.(newEpoch);
    this.interruptModel('model', pending, report, undefined);
    this.logger.info(
      { epoch: newEpoch, trigger: 'model', droppedMs: report.droppedMs, estimateMs: report.heardMs, responseActive: this.activeResponseId !== undefined },
      'barge-in: dropped queued audio and cleared the caller',
    );
    if (report.droppedMs > 0) this.options.observer?.dropped?.('barge-in', report.droppedMs);
  }

  /** Tells the caller to clear its player, starting `newEpoch`; returns the truncation that waits for its confirmation. */
  private clearCaller(newEpoch: number, report: DropReport, startedAt: number): PendingTruncation {
    this.options.transport.clear(newEpoch);
    // Barge-in → silence is measured when the caller confirms the clear (CallerTimings), not here.
    this.timings.cleared(newEpoch, startedAt, this.now());
    const echo = this.lastEcho?.epoch === newEpoch - 1 ? this.lastEcho : undefined;
    return new PendingTruncation(newEpoch, report.timeline, startedAt, report.droppedMs, report.heardMs, echo, streamedUntil(echo, this.startedAt));
  }

  /**
   * The model cancels the interrupted answer and is truncated at what the caller heard: now when
   * that is known (`settled`: the clear was confirmed during a local hold; a model without
   * `heard()`; nothing sent), else when the caller confirms the clear or at the deadline.
   */
  private interruptModel(trigger: BargeInTrigger, pending: PendingTruncation, report: DropReport, settled: SettledPoint | undefined): void {
    this.bargeInTrigger = trigger;
    if (this.activeResponseId !== undefined) this.droppedResponses.add(this.activeResponseId);
    this.bargeIns++;
    const model = this.model;
    if (report.timeline.sentMs === 0 || model?.heard === undefined) {
      model?.interrupt(report.heard);
      this.reportBargeIn(pending, report, report.timeline.sentMs === 0 ? 'nothing-sent' : 'at-barge-in', pending.startedAt);
    } else if (settled !== undefined) {
      model.interrupt(settled.point.heard);
      this.reportBargeIn(pending, settled.point, 'marker', settled.at);
    } else {
      model.interrupt(HEARD_PENDING);
      this.pendingTruncation = pending;
      const deadlineMs = this.options.truncateDeadlineMs ?? DEFAULT_TRUNCATE_DEADLINE_MS;
      this.truncateTimer = setTimeout(() => this.settleTruncation('deadline'), Math.max(0, pending.startedAt + deadlineMs - this.now()));
    }
  }

  /** Settles the pending barge-in's truncation point now: tells the model and reports it. */
  private settleTruncation(source: TruncateSource): void {
    const pending = this.pendingTruncation;
    if (pending === undefined) return;
    this.pendingTruncation = undefined;
    clearTimeout(this.truncateTimer);
    this.truncateTimer = undefined;
    const at = this.now();
    // Only the clear's confirmation dates the clear's arrival on the caller's clock.
    const point = pending.settle(at, source === 'marker' ? this.callerAudioMs : undefined);
    this.model?.heard?.(point.heard);
    this.reportBargeIn(pending, point, source, at);
  }

  private reportBargeIn(pending: PendingTruncation, point: HeardAt, source: TruncateSource, at: number): void {
    this.agent?.bargeIn(point.heardMs, pending.droppedMs);
    this.options.observer?.bargeIn?.({
      trigger: this.bargeInTrigger,
      droppedMs: pending.droppedMs,
      heardMs: point.heardMs,
      truncateUncertaintyMs: point.heardMs - point.confirmedMs,
      truncateSource: source,
      estimateAtBargeInMs: pending.estimateAtBargeInMs,
      settledAfterMs: at - pending.startedAt,
      truncate: point.heard,
      epoch: pending.epoch,
    });
    const fields = {
      epoch: pending.epoch, trigger: this.bargeInTrigger, heardMs: point.heardMs, estimateAtBargeInMs: pending.estimateAtBargeInMs,
      settledAfterMs: at - pending.startedAt, truncate: point.heard, truncateSource: source,
    };
    // A deadline means the caller never confirmed the clear: the point is a guess, worth a warning.
    if (source === 'deadline') this.logger.warn(fields, 'barge-in: no confirmation of the clear; truncated at the estimate');
    else this.logger.info(fields, 'barge-in: truncation point settled');
  }

  private onPlayed(epoch: number, playedMs: number): void {
    // The marker behind a clear came back: what had played when the clear arrived is known now.
    if (this.pendingTruncation?.confirmedBy(epoch) === true) this.settleTruncation('marker');
    const hold = this.localHold;
    if (hold !== undefined && hold.settled === undefined && hold.pending.confirmedBy(epoch)) {
      hold.settled = { point: hold.pending.settle(this.now(), this.callerAudioMs), at: this.now() };
    }
    if (!this.epochs.isCurrent(epoch)) return; // an echo from before a clear
    if (this.lastEcho === undefined || this.lastEcho.epoch !== epoch || playedMs > this.lastEcho.positionMs) {
      this.lastEcho = { epoch, positionMs: playedMs, at: this.now(), callerMs: this.callerAudioMs };
    }
    this.outbound?.played(playedMs);
    this.agent?.played(playedMs);
    const { silence, firstAudio } = this.timings.played(epoch, playedMs, this.now());
    // A hold's clear is a barge-in only once the model confirms it: its silence is reported then.
    if (silence && this.localHold !== undefined) this.localHold.silence = silence;
    else if (silence) this.options.observer?.silenced?.(silence);
    if (firstAudio) this.options.observer?.firstAudio?.(firstAudio);
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
    this.reportUnderruns();
  }

  /** New underruns of the outbound path (counted where it sends) since the last report. */
  private reportUnderruns(): void {
    const total = this.outbound?.underruns ?? 0;
    if (total > this.underrunsReported) this.options.observer?.underruns?.(total - this.underrunsReported);
    this.underrunsReported = total;
  }

  /** Ends the call from our side with the error's close code. */
  closeCall(error: VoicewireError): void {
    if (this.state === 'ended') return;
    this.closeCode ??= error.closeCode ?? 1011;
    this.options.transport.close(error.closeCode ?? 1011, error.code);
    this.end(error.message, error);
  }

  /** Ends the call from our side with a normal close (the agent hung up or handed the call on). */
  hangUp(reason: string): void {
    if (this.state === 'ended') return;
    this.closeCode ??= 1000;
    this.end(reason);
    this.options.transport.close(1000, reason);
  }

  /** Releases everything the call holds; idempotent. */
  end(reason: string, error?: VoicewireError): void {
    if (this.state === 'ended') return;
    const wasStarted = this.state !== 'awaiting-start';
    this.state = 'ended';
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    clearTimeout(this.truncateTimer);
    if (this.localHold !== undefined) clearTimeout(this.localHold.timer);
    this.localHold = undefined;
    this.pendingTruncation = undefined; // the model is closed below: nothing left to truncate
    this.agent?.ended({
      reason,
      durationMs: Math.round(this.now() - this.startedAt),
      turns: this.turns,
      bargeIns: this.bargeIns,
      maxBufferedMs: Math.round(this.outbound?.maxBufferedMs ?? 0),
      underruns: this.outbound?.underruns ?? 0,
    });
    this.outbound?.close();
    this.model?.close();
    this.logger.info({ reason, code: error?.code }, 'call ended');
    if (wasStarted) {
      this.reportUnderruns();
      this.options.observer?.ended?.({ reason, code: error?.code, closeCode: this.closeCode, durationMs: this.now() - this.startedAt });
    }
    this.resolveEnded();
  }

  /**
   * The caller transport's events, to this session's handlers. One per call, so a class: its
   * handlers are prototype methods instead of a closure each per call (nested here to reach the
   * session's private handlers).
   */
  private static readonly CallerHandlers = class implements TransportEvents {
    constructor(private readonly session: CallSession) {}

    start(info: CallStart): void {
      this.session.onStart(info);
    }
    audio(bytes: Uint8Array, ms: number): void {
      const session = this.session;
      session.callerAudioMs += ms;
      session.model?.appendAudio(bytes, ms);
      if (session.localSpeech?.hears(bytes) === true) session.onLocalSpeech();
    }
    played(epoch: number, playedMs: number): void {
      this.session.onPlayed(epoch, playedMs);
    }
    echoAfterClear(epoch: number, playedMs: number): void {
      const session = this.session;
      (session.pendingTruncation ?? session.localHold?.pending)?.echoAfterClear(epoch, playedMs, session.callerAudioMs, session.now());
    }
    sentencePlayed(epoch: number, sentenceId: number): void {
      this.session.onSentencePlayed(epoch, sentenceId);
    }
    dtmf(digit: string): void {
      this.session.logger.info({ digit }, 'dtmf');
    }
    badInput(error: VoicewireError): void {
      this.session.onBadInput(error);
    }
    closed(code: number, reason: string, error?: VoicewireError): void {
      this.session.closeCode ??= code;
      this.session.end(`caller closed (${code} ${reason})`, error);
    }
  };

  /** The model's events, to this session's handlers (a class for the same reason as CallerHandlers). */
  private static readonly ModelHandlers = class implements ModelEvents {
    constructor(private readonly session: CallSession) {}

    speechStarted(): void {
      this.session.onSpeechStarted();
    }
    speechStopped(): void {
      this.session.onSpeechStopped();
    }
    responseStarted(responseId: string): void {
      this.session.onResponseStarted(responseId);
    }
    audio(chunk: ModelAudio): Promise<void> {
      return this.session.onModelAudio(chunk);
    }
    sentenceEnd(responseId: string, sentenceId: number): void {
      this.session.onSentenceEnd(responseId, sentenceId);
    }
    responseDone(responseId: string, status: string, usage?: TokenUsage): void {
      this.session.onResponseDone(responseId, status, usage);
    }
    transcript(responseId: string, text: string): void {
      const session = this.session;
      session.logger.debug({ responseId, text }, 'transcript');
      session.agent?.transcript(responseId, text);
      session.options.observer?.transcript?.(responseId, text);
    }
    toolCalls(calls: readonly ModelToolCall[]): void {
      this.session.agent?.toolCalls(calls);
    }
    callerTranscript(itemId: string | undefined, text: string): void {
      this.session.agent?.callerTranscript(itemId, text);
    }
    error(error: VoicewireError): void {
      this.session.onModelError(error);
    }
    closed(reason: string, error?: VoicewireError): void {
      this.session.onModelClosed(reason, error);
    }
  };
}

/** A truncation point the caller's confirmation of the clear settled, and when. */
interface SettledPoint {
  readonly point: HeardAt;
  readonly at: number;
}

/** A local barge-in holding the answer: the clear went, the model has not heard speech yet. */
interface LocalHold {
  readonly pending: PendingTruncation;
  /** What the caller heard when the clear left (the estimate) and the held epoch's timeline. */
  readonly report: DropReport;
  /** Set when the caller confirmed the clear during the hold. */
  settled: SettledPoint | undefined;
  /** The clear → silence report, held back until the hold is a barge-in. */
  silence: SilenceReport | undefined;
  readonly timer: NodeJS.Timeout;
}

/**
 * The session's logger with the call's ids: the given one when it already carries them (the
 * gateway tags each call's own logger at `starting`), else a child. A child of a per-call logger
 * costs the parent a hidden class of its own (it becomes a prototype), per call.
 */
function withCallIds(logger: Logger, info: CallStart): Logger {
  const bound = logger.bindings();
  if (bound['callSid'] === info.callId && bound['streamSid'] === info.streamId) return logger;
  return logger.child({ callSid: info.callId, streamSid: info.streamId });
}

/**
 * The longest piece for a window: at most half of it (the smallest window it may take: the fixed
 * or starting one, or the caller's own capacity), so the caller still holds audio when credit
 * covers the next piece. (A piece of the whole window would wait until the caller's player is
 * empty: an underrun per piece.) The adaptive window never goes below 400 ms.
 */
function sendChunkFor(sendChunkMs: number, windowMs: number, callerCapacityMs: number | undefined): number {
  return Math.min(sendChunkMs, windowMs / 2, (callerCapacityMs ?? Infinity) / 2);
}
