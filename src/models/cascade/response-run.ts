/**
 * One response of the cascade, from the caller's utterance (or the greeting) to its last frame:
 * STT, then the pipeline (reasoning → sentences → TTS → send), then — when a remote stage failed —
 * a short spoken apology from the offline TTS so the caller never hears silence. The run owns its
 * AbortController (a barge-in cancels every request and queue of this response at once), its
 * played-ACK gate and its record of what was said.
 */
import type { AudioFormat } from '../../audio/format.js';
import type { VoicewireError } from '../../errors.js';
import type { ModelEvents, ToolDefinition } from '../model.js';
import { abortedError } from './abortable.js';
import type { ChatMessage, ChatToolCall } from './history.js';
import { runResponsePipeline, speakSentence, type CascadeBounds, type PipelineOutcome, type PipelineProbe, type ResponsePipelineOptions } from './pipeline.js';
import { PlayedGate } from './played-gate.js';
import type { Reasoner, TurnFacts, TurnInput } from './reasoner.js';
import { SpokenRecord } from './spoken.js';
import { isStageError, toStageError, type CascadeStage } from './stage-error.js';
import type { SpeechSink } from './stages.js';
import type { SpeechToText, Utterance } from './stt.js';
import type { TextToSpeech } from './tts.js';

/** Minimal structured logger (pino's `Logger` fits). */
export interface CascadeLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type RunPhase = 'transcribing' | 'thinking' | 'apologising' | 'finished';
export type RunStatus = 'completed' | 'cancelled' | 'failed';

export interface RunResult {
  readonly status: RunStatus;
  /** The error reported, when the run failed. */
  readonly error?: VoicewireError;
}

export interface RunDeps {
  readonly events: ModelEvents;
  readonly reasoner: Reasoner;
  readonly stt: SpeechToText | undefined;
  readonly tts: TextToSpeech;
  /** Speaks the apology; undefined: no apology possible (logged). */
  readonly apologyTts: TextToSpeech | undefined;
  readonly format: AudioFormat;
  readonly bounds: CascadeBounds;
  readonly logger: CascadeLogger;
  readonly history: () => readonly ChatMessage[];
  /** The figures this turn's agent sees (a snapshot taken when the turn began). */
  readonly facts: TurnFacts;
  /** Functions the reasoner may call this turn. */
  readonly tools?: readonly ToolDefinition[];
}

/** What the caller hears when a remote stage fails (one short sentence each). */
export const APOLOGIES: Readonly<Record<CascadeStage, string>> = {
  vad: 'Sorry, something went wrong on my side. Please try again.',
  stt: "Sorry, I couldn't make out what you said, my speech recognition isn't answering. Please try again.",
  llm: "Sorry, I lost my train of thought, my language model isn't answering. Please try again.",
  sentences: 'Sorry, something went wrong on my side. Please try again.',
  tts: 'Sorry, my voice service stopped working. Please try again.',
  send: 'Sorry, something went wrong on my side. Please try again.',
  turn: 'Sorry, something went wrong on my side. Please try again.',
};

/** Stages whose failure the caller hears about (remote services; a stuck player cannot hear anything). */
const APOLOGISE_FOR: ReadonlySet<CascadeStage> = new Set(['stt', 'llm', 'tts', 'turn']);

export class ResponseRun {
  readonly id: string;
  readonly utterance: Utterance | undefined;
  readonly gate = new PlayedGate();
  readonly record: SpokenRecord;
  readonly probe: PipelineProbe = { sentences: undefined, speech: undefined };
  /** The user message this turn adds to the history ('' until known / for the greeting). */
  userText = '';
  /** Function calls the answer made (reported by the session once the run completed). */
  readonly toolCalls: ChatToolCall[] = [];
  private phaseValue: RunPhase;
  private statusValue: RunStatus | undefined;
  private readonly controller = new AbortController();

  constructor(
    id: string,
    private readonly input: TurnInput,
    utterance: Utterance | undefined,
    private readonly deps: RunDeps,
  ) {
    this.id = id;
    this.utterance = utterance;
    this.record = new SpokenRecord(deps.bounds.maxSentencesPerResponse);
    this.phaseValue = utterance && deps.stt ? 'transcribing' : 'thinking';
  }

  get facts(): TurnFacts {
    return this.deps.facts;
  }

  get phase(): RunPhase {
    return this.phaseValue;
  }

  /** Set once: the run is over (completed, cancelled by a barge-in, or failed). */
  get status(): RunStatus | undefined {
    return this.statusValue;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Barge-in (or close): aborts every request and drops every queue of this response now. */
  cancel(reason: string): void {
    if (this.statusValue !== undefined) return;
    this.statusValue = 'cancelled';
    this.phaseValue = 'finished';
    this.controller.abort(abortedError(reason));
    this.probe.sentences?.abort(reason);
    this.probe.speech?.abort(reason);
  }

  /** Runs the response to its end. Never rejects; a cancelled run resolves 'cancelled'. */
  async run(): Promise<RunResult> {
    let input = this.input;
    if (this.phaseValue === 'transcribing' && this.utterance && this.deps.stt && input.kind === 'utterance') {
      let text: string;
      try {
        text = await this.deps.stt.transcribe(this.utterance, this.signal);
      } catch (err) {
        if (this.signal.aborted) return this.end('cancelled');
        return this.fail(toStageError('stt', err));
      }
      if (this.signal.aborted) return this.end('cancelled');
      if (text.length === 0) {
        this.deps.logger.debug({ responseId: this.id }, 'empty transcript: no answer');
        return this.end('completed');
      }
      input = { ...input, text };
      this.deps.events.callerTranscript?.(undefined, text);
    }
    this.userText = this.deps.reasoner.userMessage(input);
    this.phaseValue = 'thinking';
    const outcome = await runResponsePipeline(this.pipelineOptions(input));
    if (this.signal.aborted || outcome.status === 'cancelled') return this.end('cancelled');
    if (outcome.status === 'failed') return this.fail(outcome.error);
    return this.end('completed');
  }

  /** Reports `error` (log with the stage name + events.error), speaks the apology, ends 'failed'. */
  private async fail(error: VoicewireError): Promise<RunResult> {
    const stage = isStageError(error) ? error.stage : undefined;
    this.deps.logger.warn({ responseId: this.id, stage, code: error.code, err: error.message }, 'cascade stage failed');
    this.deps.events.error(error);
    if (stage !== undefined && APOLOGISE_FOR.has(stage)) await this.apologise(stage);
    return this.end(this.signal.aborted ? 'cancelled' : 'failed', error);
  }

  private async apologise(stage: CascadeStage): Promise<void> {
    const tts = this.deps.apologyTts;
    if (!tts) {
      this.deps.logger.warn({ responseId: this.id, stage }, 'no offline TTS for the apology: the caller hears silence');
      return;
    }
    this.phaseValue = 'apologising';
    const outcome: PipelineOutcome = await speakSentence(this.pipelineOptions(this.input), tts, APOLOGIES[stage]);
    if (outcome.status === 'failed') {
      this.deps.logger.error({ responseId: this.id, code: outcome.error.code, err: outcome.error.message }, 'apology failed');
    }
  }

  private end(status: RunStatus, error?: VoicewireError): RunResult {
    if (this.statusValue === undefined) {
      this.statusValue = status;
      this.phaseValue = 'finished';
    }
    return error ? { status: this.statusValue, error } : { status: this.statusValue };
  }

  private pipelineOptions(input: TurnInput): ResponsePipelineOptions {
    return {
      bounds: this.deps.bounds,
      reasoner: this.deps.reasoner,
      input,
      history: this.deps.history(),
      facts: this.deps.facts,
      tts: this.deps.tts,
      format: this.deps.format,
      gate: this.gate,
      record: this.record,
      sink: this.sink,
      signal: this.signal,
      probe: this.probe,
      ...(this.deps.tools && this.deps.tools.length > 0 ? { tools: this.deps.tools, onToolCall: (call: ChatToolCall) => this.toolCalls.push(call) } : {}),
      onCapped: () => this.deps.logger.info({ responseId: this.id, max: this.deps.bounds.maxSentencesPerResponse }, 'response reached its sentence cap: the rest is not read'),
    };
  }

  /** The send stage's view of the session: nothing reaches it once the run is over. */
  private readonly sink: SpeechSink = {
    audio: (sentenceId, bytes, durationMs) => {
      if (this.statusValue !== undefined) return Promise.resolve();
      return this.deps.events.audio({ responseId: this.id, itemId: this.id, sentenceId, bytes, durationMs });
    },
    sentenceEnd: (sentenceId) => {
      if (this.statusValue === undefined) this.deps.events.sentenceEnd(this.id, sentenceId);
    },
    sentenceStarted: (_sentenceId, text) => {
      if (this.statusValue === undefined) this.deps.events.transcript(this.id, text);
    },
  };
}
