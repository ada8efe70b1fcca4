/**
 * The cascade backend: VAD → STT → reasoning → sentences → TTS, in-process, behind the same
 * ModelSession interface as OpenAI Realtime. Unlike Realtime it can be slowed (`pausable`): the
 * session's `audio()` promise pauses the pipeline, all the way back to the LLM's response body.
 *
 * Beyond the interface, the session calls:
 * - `sentencePlayed(sentenceId)` from the caller's played-ACKs: sentence N+2 is not synthesised
 *   or sent before sentence N has played;
 * - `noteBargeIn(ms)` with the barge-in time it measured, which the demo agent reports.
 *
 * One response runs at a time (ResponseRun). Turn-taking: VAD speech-end → a new response;
 * VAD speech-start → `speechStarted`, after which the session calls `interrupt(heard)`.
 */
import { msToSamples, type AudioFormat } from '../../audio/format.js';
import { vwError } from '../../errors.js';
import { HEARD_PENDING, type HeardPoint, type ModelEvents, type ModelSession, type ToolDefinition } from '../model.js';
import { ConversationHistory } from './history.js';
import type { HeardSplit } from './heard.js';
import { CallerListener, type VadFactory } from './listener.js';
import type { CascadeBounds } from './pipeline.js';
import type { Reasoner, TurnFacts, TurnInput } from './reasoner.js';
import { ResponseRun, type CascadeLogger, type RunResult } from './response-run.js';
import { toStageError } from './stage-error.js';
import type { SpeechToText, Utterance } from './stt.js';
import type { TextToSpeech } from './tts.js';
import { joinUtterances } from './utterance.js';
import { bindStageSignal } from '../../telemetry/stage-tracing.js';

/** Everything a session needs, resolved by the factory (factory.ts). */
export interface CascadeSessionDeps {
  readonly callId: string;
  readonly callerFormat: AudioFormat;
  readonly bounds: CascadeBounds;
  readonly logger: CascadeLogger;
  readonly reasoner: Reasoner;
  readonly stt: SpeechToText | undefined;
  readonly tts: TextToSpeech;
  readonly apologyTts: TextToSpeech | undefined;
  readonly createVad: VadFactory;
  /** Greet the caller once connected. Default true. */
  readonly greet?: boolean;
  /** Functions the reasoner may call (the call's setup); their outputs come back through `toolResult`. */
  readonly tools?: readonly ToolDefinition[];
}

type SessionState = 'created' | 'listening' | 'closed';

/** Depths of the running response's queues (for tests, metrics and the browser's stats). */
export interface CascadeDepths {
  readonly responseId: string | undefined;
  readonly phase: string;
  /** Sentences waiting between reasoning and TTS (≤ bounds.sentenceQueue). */
  readonly sentences: number;
  /** ms of synthesised audio waiting between TTS and send (≤ bounds.speechQueueMs). */
  readonly speechMs: number;
  /** Highest sentence id confirmed played (−1: none). */
  readonly playedThrough: number;
}

export class CascadeSession implements ModelSession {
  readonly backend = 'cascade' as const;
  readonly pausable = true;
  private state: SessionState = 'created';
  private events: ModelEvents | undefined;
  private readonly listener: CallerListener;
  private readonly history: ConversationHistory;
  private run: ResponseRun | undefined;
  /** The last response that ended normally: a late barge-in may still truncate its history entry. */
  private lastFinished: ResponseRun | undefined;
  /** A run cancelled by a barge-in whose heard point is pending (`interrupt(HEARD_PENDING)`). */
  private cut: ResponseRun | undefined;
  /** A barge-in during a finished answer's playout whose heard point is pending. */
  private pendingFinished = false;
  /** An utterance whose response was cancelled before a word was heard: joined with the next one. */
  private carryOver: Utterance | undefined;
  private greetTimer: NodeJS.Immediate | undefined;
  private responses = 0;
  private turns = 0;
  private interruptions = 0;
  private lastInterruption: TurnFacts['interrupted'];
  private lastBargeInMs: number | undefined;
  /** Wall time of the last VAD onset and the audio ms it was detected after (fallback barge-in figure). */
  private lastOnset: { at: number; detectionMs: number } | undefined;
  /** Wall time of the last noteBargeIn() (the session's figure wins over our fallback). */
  private bargeInNotedAt = -Infinity;

  constructor(private readonly deps: CascadeSessionDeps) {
    this.history = new ConversationHistory({
      maxMessages: deps.bounds.historyMaxMessages,
      maxChars: deps.bounds.historyMaxChars,
    });
    this.listener = new CallerListener(
      {
        format: deps.callerFormat,
        createVad: deps.createVad,
        preRollMs: deps.bounds.preRollMs,
        maxUtteranceMs: deps.bounds.maxUtteranceMs,
      },
      {
        speechStarted: (detectionMs) => this.onSpeechStarted(detectionMs),
        speechStopped: (utterance) => this.onSpeechStopped(utterance),
      },
    );
  }

  attach(events: ModelEvents): void {
    this.events = events;
  }

  /** Nothing remote to connect to (HTTP stages are per request); greets the caller once connected. */
  async connect(): Promise<void> {
    if (this.state !== 'created') return;
    if (!this.events) throw vwError('VW_ERR_CONFIG', 'cascade session connected before attach()');
    this.state = 'listening';
    this.deps.logger.info(
      { reasoner: this.deps.reasoner.name, stt: this.deps.stt?.name ?? 'none', tts: this.deps.tts.name },
      'cascade ready',
    );
    // After connect() resolves, so the session has seen the connection before the first response.
    if (this.deps.greet ?? true) this.greetTimer = setImmediate(() => this.startResponse({ kind: 'greeting' }, undefined));
  }

  appendAudio(bytes: Uint8Array, _durationMs: number): void {
    if (this.state !== 'listening') return;
    this.listener.push(bytes);
  }

  /**
   * Barge-in: cancels the active response (every request and queue), records what the caller
   * heard — `heard.audioEndMs` of `heard.itemId` mapped onto the sentences sent — in the history.
   * A `heard` naming an earlier, finished response truncates that response's history entry.
   */
  interrupt(heard: HeardPoint | undefined | typeof HEARD_PENDING): void {
    if (this.greetTimer) {
      clearImmediate(this.greetTimer);
      this.greetTimer = undefined;
    }
    this.settleCut(undefined); // an earlier barge-in still waiting: settled at what its sentences confirm
    const run = this.run;
    if (heard === HEARD_PENDING) {
      if (!run || run.status !== undefined) {
        this.pendingFinished = true;
        return;
      }
      // Stopped now; what it leaves in the history waits for heard() (or the next answer's start).
      this.cancelRun(run, undefined);
      return;
    }
    if (heard && heard.itemId !== run?.id) this.truncateFinished(heard.itemId, heard.audioEndMs);
    if (!run || run.status !== undefined) return;
    this.cancelRun(run, this.splitOf(run, heard));
  }

  /**
   * What the caller heard, after `interrupt(HEARD_PENDING)`: the interrupted answer goes into the
   * history cut there (or a finished answer's entry is truncated).
   */
  heard(heard: HeardPoint | undefined): void {
    if (this.pendingFinished) {
      this.pendingFinished = false;
      if (heard) this.truncateFinished(heard.itemId, heard.audioEndMs);
    }
    this.settleCut(heard);
  }

  /** The caller played every sample of `sentenceId` of the current response. */
  sentencePlayed(sentenceId: number, responseId?: string): void {
    const run = this.run;
    if (!run || (responseId !== undefined && responseId !== run.id)) return;
    run.gate.markPlayed(sentenceId);
  }

  /**
   * A function's output goes into the history; with `respond` (the session's last result of the
   * batch, and the caller has not spoken since) the reasoner answers it now.
   */
  toolResult(callId: string, output: string, respond: boolean): void {
    if (this.state !== 'listening') return;
    this.history.addToolResult(callId, output);
    if (respond && this.run === undefined) this.startResponse({ kind: 'tool-results' }, undefined);
  }

  /** The setup's greeting, said word for word instead of the reasoner's own. */
  greet(text: string): void {
    if (this.greetTimer) clearImmediate(this.greetTimer);
    this.greetTimer = undefined;
    if (this.run !== undefined) return;
    this.startResponse({ kind: 'greeting' }, undefined, scriptedReasoner(text));
  }

  /** The session's measured barge-in time (speech onset → the agent's audio stopped), for the agent to report. */
  noteBargeIn(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.lastBargeInMs = ms;
    this.bargeInNotedAt = Date.now();
  }

  /** Depths of the running response's queues. */
  depths(): CascadeDepths {
    const run = this.run;
    return {
      responseId: run?.id,
      phase: run?.phase ?? 'listening',
      sentences: run?.probe.sentences?.length ?? 0,
      speechMs: run?.probe.speech?.queuedMs ?? 0,
      playedThrough: run?.gate.playedThrough ?? -1,
    };
  }

  /** The conversation as the reasoning stage will see it next. */
  historyMessages(): ReturnType<ConversationHistory['messages']> {
    return this.history.messages();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.greetTimer) clearImmediate(this.greetTimer);
    this.run?.cancel('session closed');
    this.run = undefined;
    this.listener.reset();
    this.carryOver = undefined;
  }

  private onSpeechStarted(detectionMs: number): void {
    if (this.state !== 'listening') return;
    this.lastOnset = { at: Date.now(), detectionMs };
    this.events?.speechStarted();
  }

  private onSpeechStopped(utterance: Utterance): void {
    if (this.state !== 'listening') return;
    this.events?.speechStopped();
    // A barge-in still waiting for what the caller heard is settled before this turn reads the history.
    this.settleCut(undefined);
    const current = this.run;
    // The session normally interrupted at speech-start; if it did not, the new turn supersedes.
    if (current && current.status === undefined) this.cancelRun(current, current.record.heardThrough(current.gate.playedThrough));
    const carried = this.carryOver;
    this.carryOver = undefined;
    const maxSamples = msToSamples(utterance.sampleRate, this.deps.bounds.maxUtteranceMs);
    const joined = carried ? joinUtterances(carried, utterance, maxSamples) : utterance;
    const input: TurnInput = {
      kind: 'utterance',
      text: undefined,
      durationMs: joined.durationMs,
      levelDbfs: joined.levelDbfs,
      truncated: joined.truncated,
    };
    this.turns += 1;
    this.startResponse(input, joined);
  }

  private startResponse(input: TurnInput, utterance: Utterance | undefined, reasoner: Reasoner = this.deps.reasoner): void {
    this.greetTimer = undefined;
    // The next answer never starts from a history still waiting for what the caller heard.
    this.settleCut(undefined);
    const events = this.events;
    if (this.state !== 'listening' || !events) return;
    this.responses += 1;
    const facts = this.factsForTurn(input);
    const run = new ResponseRun(`cascade-${this.deps.callId}-${this.responses}`, input, utterance, {
      events,
      reasoner,
      stt: this.deps.stt,
      tts: this.deps.tts,
      apologyTts: this.deps.apologyTts,
      format: this.deps.callerFormat,
      bounds: this.deps.bounds,
      logger: this.deps.logger,
      history: () => this.history.messages(),
      facts,
      ...(this.deps.tools ? { tools: this.deps.tools } : {}),
    });
    this.run = run;
    // The run's STT/LLM/TTS requests are traced in this call (and carry its traceparent).
    bindStageSignal(run.signal, this.deps.callId);
    events.responseStarted(run.id);
    run.run().then(
      (result) => this.onRunEnded(run, result),
      (err: unknown) => this.onRunEnded(run, { status: 'failed', error: toStageError('turn', err) }),
    );
  }

  /** The figures this turn's agent sees; the interruption it reports is consumed by this turn. */
  private factsForTurn(input: TurnInput): TurnFacts {
    const facts: TurnFacts = {
      turns: this.turns,
      interruptions: this.interruptions,
      lastBargeInMs: this.lastBargeInMs,
      interrupted: this.lastInterruption,
    };
    if (input.kind === 'utterance') this.lastInterruption = undefined;
    return facts;
  }

  private onRunEnded(run: ResponseRun, result: RunResult): void {
    if (result.status === 'cancelled') return; // cancelRun() already reported and recorded it
    if (result.status === 'failed' && result.error?.code === 'VW_ERR_STAGE_FAILED' && (result.error as { stage?: string }).stage === 'turn') {
      this.deps.logger.error({ responseId: run.id, err: result.error.message }, 'cascade response failed unexpectedly');
      this.events?.error(result.error);
    }
    const calls = result.status === 'completed' ? run.toolCalls : [];
    if (calls.length > 0) {
      if (run.userText) this.history.add('user', run.userText);
      this.history.addToolCalls(run.record.text(), calls, run.id);
    } else {
      this.commit(run, run.record.text());
    }
    if (this.run === run) this.run = undefined;
    this.lastFinished = run;
    if (this.state !== 'listening') return;
    this.events?.responseDone(run.id, result.status);
    if (calls.length > 0) this.events?.toolCalls?.(calls.map((c) => ({ responseId: run.id, callId: c.id, name: c.name, arguments: c.arguments })));
  }

  private splitOf(run: ResponseRun, heard: HeardPoint | undefined): HeardSplit {
    return heard && heard.itemId === run.id ? run.record.heardAt(heard.audioEndMs) : run.record.heardThrough(run.gate.playedThrough);
  }

  /** Commits a cancelled run whose heard point was pending; without `heard`, at its confirmed sentences. */
  private settleCut(heard: HeardPoint | undefined): void {
    const run = this.cut;
    if (run === undefined) return;
    this.cut = undefined;
    this.pendingFinished = false;
    this.finishCancel(run, this.splitOf(run, heard));
  }

  /** Cancels `run` now; its history entry is written now with `split`, or later by settleCut. */
  private cancelRun(run: ResponseRun, split: HeardSplit | undefined): void {
    run.cancel('interrupted');
    if (this.run === run) this.run = undefined;
    if (split === undefined) this.cut = run;
    else this.finishCancel(run, split);
    if (this.state === 'listening') this.events?.responseDone(run.id, 'cancelled');
  }

  private finishCancel(run: ResponseRun, split: HeardSplit): void {
    const spoke = run.record.anySent;
    if (spoke) {
      this.noteInterruption(split);
      this.commit(run, split.heard);
    } else if (run.utterance) {
      // Nothing was heard: the caller paused and went on. Keep their words (and what this turn
      // was going to report) for the next turn.
      this.carryOver = run.utterance;
      this.turns = Math.max(0, this.turns - 1);
      this.lastInterruption ??= run.facts.interrupted;
    }
    this.deps.logger.debug({ responseId: run.id, heard: split.heard.length, unheard: split.unheard.length }, 'response interrupted');
  }

  /** A barge-in during a finished response's playout: its history entry keeps only what was heard. */
  private truncateFinished(itemId: string, audioEndMs: number): void {
    const finished = this.lastFinished;
    if (!finished || finished.id !== itemId) return;
    const split = finished.record.heardAt(audioEndMs);
    if (split.unheard.length === 0) return;
    this.history.truncate(itemId, split.heard);
    this.noteInterruption(split);
  }

  private noteInterruption(split: HeardSplit): void {
    this.interruptions += 1;
    this.lastInterruption = split;
    // The session's figure replaces this when it calls noteBargeIn(); until then, our own:
    // audio from the caller's onset to the VAD's decision, plus the time until this interrupt.
    const onset = this.lastOnset;
    if (onset && this.bargeInNotedAt < onset.at) this.lastBargeInMs = onset.detectionMs + (Date.now() - onset.at);
    this.lastOnset = undefined;
  }

  private commit(run: ResponseRun, assistantText: string): void {
    if (run.userText) this.history.add('user', run.userText);
    if (assistantText) this.history.add('assistant', assistantText, run.id);
  }
}

/** A reasoner that says `text` and nothing else (the setup's greeting). */
function scriptedReasoner(text: string): Reasoner {
  return {
    name: 'scripted',
    userMessage: () => '',
    async *respond() {
      yield text;
    },
  };
}
