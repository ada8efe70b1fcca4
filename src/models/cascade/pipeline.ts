/**
 * The cascade's pipeline for one response, assembled in one place so every bound is visible:
 *
 *   caller audio ─► VAD + utterance (≤ maxUtteranceMs) ─► STT ─► reasoning (LLM / demo agent)
 *     ─► SentenceSplitter ─► ItemQueue (≤ sentenceQueue sentences) ─► TTS
 *     ─► AudioQueue (≤ speechQueueMs ms) ─► send: events.audio(), awaited
 *                                               └─ played-ACK gate: N+2 waits for N
 *
 * A full queue pauses the stage before it, up to the LLM's response body, which is then not read.
 * A barge-in aborts the turn's signal: every queue downstream of reasoning is aborted (dropped,
 * never flushed) and every in-flight request is cancelled through the same signal.
 */
import type { AudioFormat } from '../../audio/format.js';
import { isVoicewireError, vwError, type VoicewireError } from '../../errors.js';
import { AudioQueue } from '../../flow/audio-queue.js';
import { abortedError } from './abortable.js';
import type { ChatMessage } from './history.js';
import { ItemQueue } from './item-queue.js';
import type { PlayedGate } from './played-gate.js';
import type { Reasoner, TurnFacts, TurnInput, ReasoningContext } from './reasoner.js';
import type { SpokenRecord } from './spoken.js';
import { runReasoningStage, runSendStage, runTtsStage, type PlannedSentence, type SpeechItem, type SpeechSink } from './stages.js';
import { toStageError } from './stage-error.js';
import type { TextToSpeech } from './tts.js';
import { inheritStageSignal } from '../../telemetry/stage-tracing.js';

export interface CascadeBounds {
  /** Caller speech kept per utterance (ms of audio); longer speech is cut. */
  readonly maxUtteranceMs: number;
  /** Caller audio kept from before the VAD's onset decision (ms). */
  readonly preRollMs: number;
  /** Sentences queued between reasoning and TTS; a full queue pauses the LLM stream reader. */
  readonly sentenceQueue: number;
  /** Synthesised audio queued between TTS and send (ms); a full queue pauses TTS. */
  readonly speechQueueMs: number;
  /** Sentence N + this is not synthesised or sent before sentence N has played. */
  readonly sentencesAhead: number;
  /** A played-ACK (or the session taking audio) may be late by this much beyond the audio ahead (ms). */
  readonly playedAckGraceMs: number;
  /** Longest sentence handed to TTS (chars). */
  readonly maxSentenceChars: number;
  /** Sentences per response; the rest of a longer answer is not read. */
  readonly maxSentencesPerResponse: number;
  /** Conversation history: messages and characters kept. */
  readonly historyMaxMessages: number;
  readonly historyMaxChars: number;
}

/** The bounds table. Every queue, buffer and list of the cascade is bounded by one of these. */
export const BOUNDS: CascadeBounds = {
  maxUtteranceMs: 30_000,
  preRollMs: 300,
  sentenceQueue: 4,
  speechQueueMs: 1_000,
  sentencesAhead: 2,
  playedAckGraceMs: 5_000,
  maxSentenceChars: 200,
  maxSentencesPerResponse: 100,
  historyMaxMessages: 20,
  historyMaxChars: 8_000,
};

/** BOUNDS with `overrides`, each checked (finite, ≥ 1, whole where it counts items). */
export function resolveBounds(overrides: Partial<CascadeBounds> = {}): CascadeBounds {
  const bounds = { ...BOUNDS, ...overrides };
  for (const [name, value] of Object.entries(bounds) as Array<[keyof CascadeBounds, number]>) {
    const whole = name !== 'speechQueueMs' && name !== 'playedAckGraceMs' && name !== 'preRollMs';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || (whole && !Number.isInteger(value))) {
      throw vwError('VW_ERR_CONFIG', `cascade bound ${name}=${String(value)} must be a finite number ≥ 1`);
    }
  }
  if (bounds.speechQueueMs < 20) throw vwError('VW_ERR_CONFIG', 'cascade bound speechQueueMs must hold one 20 ms frame');
  return bounds;
}

/** Live queues of the running response, for tests and metrics (depth sampling). */
export interface PipelineProbe {
  sentences: ItemQueue<PlannedSentence> | undefined;
  speech: AudioQueue<SpeechItem> | undefined;
}

export interface ResponsePipelineOptions {
  readonly bounds: CascadeBounds;
  readonly reasoner: Reasoner;
  readonly input: TurnInput;
  readonly history: readonly ChatMessage[];
  readonly facts: TurnFacts;
  readonly tts: TextToSpeech;
  readonly format: AudioFormat;
  readonly gate: PlayedGate;
  readonly record: SpokenRecord;
  readonly sink: SpeechSink;
  /** The turn: aborted on barge-in. */
  readonly signal: AbortSignal;
  readonly probe: PipelineProbe;
  readonly onCapped?: () => void;
  /** Functions the reasoner may call, and where its calls go. */
  readonly tools?: ReasoningContext['tools'];
  readonly onToolCall?: ReasoningContext['onToolCall'];
}

export type PipelineOutcome =
  | { readonly status: 'completed' }
  | { readonly status: 'cancelled' }
  | { readonly status: 'failed'; readonly error: VoicewireError };

/** Runs reasoning → sentences → TTS → send for one response. Never rejects: the outcome says how it ended. */
export async function runResponsePipeline(options: ResponsePipelineOptions): Promise<PipelineOutcome> {
  const { bounds, signal } = options;
  const sentences = new ItemQueue<PlannedSentence>(bounds.sentenceQueue);
  options.probe.sentences = sentences;
  const reasoning = linkedController(signal);
  const speaking = runSpeech(options, options.tts, sentences).catch((err: unknown) => {
    // Nothing downstream can speak: stop the LLM (its fetch is cancelled) and drop the plan.
    reasoning.controller.abort(abortedError('speech stage failed'));
    sentences.abort('speech stage failed');
    throw err;
  });
  const thinking = runReasoningStage({
    reasoner: options.reasoner,
    input: options.input,
    context: {
      history: options.history, facts: options.facts, signal: reasoning.controller.signal,
      ...(options.tools ? { tools: options.tools } : {}),
      ...(options.onToolCall ? { onToolCall: options.onToolCall } : {}),
    },
    sentences,
    record: options.record,
    maxSentenceChars: bounds.maxSentenceChars,
    firstSentenceId: 0,
    onCapped: options.onCapped,
  });
  const [thought, spoke] = await Promise.allSettled([thinking, speaking]);
  reasoning.unlink();
  if (signal.aborted) return { status: 'cancelled' };
  if (spoke.status === 'rejected') return failed(spoke.reason, 'tts');
  if (thought.status === 'rejected') return failed(thought.reason, 'llm');
  return { status: 'completed' };
}

/** Speaks `text` as the next sentence of the response (the apology after a stage failure). */
export async function speakSentence(options: ResponsePipelineOptions, tts: TextToSpeech, text: string): Promise<PipelineOutcome> {
  const sentences = new ItemQueue<PlannedSentence>(1);
  options.record.discardUnsent();
  const sentenceId = options.record.nextSentenceId;
  options.record.plan(sentenceId, text, { reserved: true });
  await sentences.write({ sentenceId, text });
  sentences.close();
  try {
    await runSpeech(options, tts, sentences);
  } catch (err) {
    return options.signal.aborted ? { status: 'cancelled' } : failed(err, 'tts');
  }
  return options.signal.aborted ? { status: 'cancelled' } : { status: 'completed' };
}

/** TTS and send, joined by the speech AudioQueue. A send failure stops TTS; a TTS failure lets send drain. */
async function runSpeech(options: ResponsePipelineOptions, tts: TextToSpeech, sentences: ItemQueue<PlannedSentence>): Promise<void> {
  const { bounds } = options;
  const speech = new AudioQueue<SpeechItem>({ highWaterMarkMs: bounds.speechQueueMs });
  options.probe.speech = speech;
  const stage = linkedController(options.signal);
  const synthesis = runTtsStage({
    tts,
    format: options.format,
    sentences,
    speech,
    gate: options.gate,
    record: options.record,
    sentencesAhead: bounds.sentencesAhead,
    playedAckGraceMs: bounds.playedAckGraceMs,
    signal: stage.controller.signal,
  });
  const sending = runSendStage({
    speech,
    sink: options.sink,
    gate: options.gate,
    record: options.record,
    playedAckGraceMs: bounds.playedAckGraceMs,
    signal: stage.controller.signal,
  }).catch((err: unknown) => {
    stage.controller.abort(abortedError('send stage failed'));
    speech.abort('send stage failed');
    throw err;
  });
  const [synthesised, sent] = await Promise.allSettled([synthesis, sending]);
  stage.unlink();
  if (options.signal.aborted) speech.abort('interrupted');
  if (sent.status === 'rejected') throw sent.reason;
  if (synthesised.status === 'rejected') throw synthesised.reason;
}

function failed(reason: unknown, stage: 'llm' | 'tts'): PipelineOutcome {
  const error = isVoicewireError(reason) ? reason : toStageError(stage, reason);
  return { status: 'failed', error };
}

/** An AbortController that follows `parent` (and can be aborted on its own); unlink when done. */
function linkedController(parent: AbortSignal): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  inheritStageSignal(controller.signal, parent);
  const follow = (): void => controller.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener('abort', follow, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', follow) };
}
