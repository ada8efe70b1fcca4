/**
 * The three stages after STT, each a loop between two bounded queues (pipeline.ts assembles them):
 *
 *   reasoning ─(sentences, ItemQueue)─► TTS ─(frames, AudioQueue in ms)─► send ─► events.audio
 *
 * Every wait is on a bounded queue, the played-ACK gate or the session's `audio()` promise, each
 * with the turn's AbortSignal and, where nothing else bounds it, a deadline.
 */
import type { AudioFormat } from '../../audio/format.js';
import { isVoicewireError } from '../../errors.js';
import type { AudioQueue } from '../../flow/audio-queue.js';
import { SentenceSplitter } from '../../flow/sentence-splitter.js';
import { withDeadline } from './abortable.js';
import { Framer } from './framer.js';
import type { ItemQueue } from './item-queue.js';
import type { PlayedGate } from './played-gate.js';
import type { Reasoner, ReasoningContext, TurnInput } from './reasoner.js';
import type { SpokenRecord } from './spoken.js';
import { toStageError } from './stage-error.js';
import type { TextToSpeech } from './tts.js';

/** A sentence on its way from reasoning to TTS. */
export interface PlannedSentence {
  readonly sentenceId: number;
  readonly text: string;
}

/** What flows from TTS to send: 20 ms frames, and a zero-length marker at each sentence's end. */
export type SpeechItem =
  | { readonly kind: 'frame'; readonly sentenceId: number; readonly bytes: Uint8Array; readonly durationMs: number }
  | { readonly kind: 'end'; readonly sentenceId: number; readonly durationMs: 0 };

/** Where the send stage delivers (the session's events, filtered by the response's liveness). */
export interface SpeechSink {
  audio(sentenceId: number, bytes: Uint8Array, durationMs: number): Promise<void>;
  sentenceEnd(sentenceId: number): void;
  /** A sentence starts playing out (its text, for the transcript). */
  sentenceStarted(sentenceId: number, text: string): void;
}

export interface ReasoningStageOptions {
  readonly reasoner: Reasoner;
  readonly input: TurnInput;
  readonly context: ReasoningContext;
  readonly sentences: ItemQueue<PlannedSentence>;
  readonly record: SpokenRecord;
  readonly maxSentenceChars: number;
  /** First sentence id (0 for a fresh response). */
  readonly firstSentenceId: number;
  /** Called when the response reached its sentence cap and the rest was not read. */
  readonly onCapped?: () => void;
}

/**
 * Reasoning → sentences. Streamed text goes through the SentenceSplitter; each sentence is written
 * to the bounded sentence queue, and while that write waits the reasoner is not pulled (so the LLM
 * body is not read). Closes the queue at the end, also on failure, so what was planned is spoken.
 */
export async function runReasoningStage(options: ReasoningStageOptions): Promise<void> {
  const { sentences, record, context } = options;
  const splitter = new SentenceSplitter({ maxChars: options.maxSentenceChars });
  let nextId = options.firstSentenceId;
  let capped = false;
  const emit = async (text: string): Promise<boolean> => {
    if (!record.plan(nextId, text)) {
      capped = true;
      return false;
    }
    await sentences.write({ sentenceId: nextId, text }, { signal: context.signal });
    nextId += 1;
    return true;
  };
  try {
    reading: for await (const delta of options.reasoner.respond(options.input, context)) {
      for (const text of splitter.push(delta)) if (!(await emit(text))) break reading;
    }
    if (!capped) for (const text of splitter.flush()) if (!(await emit(text))) break;
  } catch (err) {
    if (context.signal.aborted) throw err;
    throw toStageError('llm', err);
  } finally {
    splitter.reset();
    sentences.close();
  }
  if (capped) options.onCapped?.();
}

export interface TtsStageOptions {
  readonly tts: TextToSpeech;
  readonly format: AudioFormat;
  readonly sentences: ItemQueue<PlannedSentence>;
  readonly speech: AudioQueue<SpeechItem>;
  readonly gate: PlayedGate;
  readonly record: SpokenRecord;
  /** A sentence waits for the one `sentencesAhead` before it to have played. */
  readonly sentencesAhead: number;
  readonly playedAckGraceMs: number;
  readonly signal: AbortSignal;
}

/**
 * Sentences → 20 ms frames in the caller's format. Sentence N+`sentencesAhead` is not synthesised
 * before sentence N has played (deadline: N's duration + grace → VW_ERR_DEADLINE). On a TTS
 * failure the sentence in progress is closed with its end marker, so the session's played-ACKs
 * stay consistent, and the queue is closed so the frames already made are still sent.
 */
export async function runTtsStage(options: TtsStageOptions): Promise<void> {
  const { speech, signal, record } = options;
  const framer = new Framer(options.tts.sampleRate, options.format);
  try {
    for (;;) {
      const sentence = await options.sentences.read({ signal });
      if (!sentence) break;
      const waitFor = sentence.sentenceId - options.sentencesAhead;
      if (waitFor >= 0) {
        await options.gate.waitPlayed(waitFor, {
          signal,
          timeoutMs: record.synthesizedMsOf(waitFor) + options.playedAckGraceMs,
        });
      }
      await synthesizeSentence(options, framer, sentence);
    }
  } catch (err) {
    if (signal.aborted || isVoicewireError(err, 'VW_ERR_DEADLINE')) throw err;
    throw toStageError('tts', err);
  } finally {
    speech.close();
  }
}

async function synthesizeSentence(options: TtsStageOptions, framer: Framer, sentence: PlannedSentence): Promise<void> {
  const { speech, signal } = options;
  const { sentenceId } = sentence;
  const write = (bytes: Uint8Array): Promise<void> => {
    options.record.addSynthesized(sentenceId, framer.frameMs);
    return speech.write({ kind: 'frame', sentenceId, bytes, durationMs: framer.frameMs }, { signal });
  };
  try {
    for await (const pcm of options.tts.synthesize(sentence.text, { signal })) {
      for (const bytes of framer.push(pcm)) await write(bytes);
    }
    for (const bytes of framer.flush()) await write(bytes);
  } catch (err) {
    framer.reset();
    // A zero-length marker always fits: the sentence ends where its audio ends.
    if (!signal.aborted) speech.tryWrite({ kind: 'end', sentenceId, durationMs: 0 });
    throw err;
  }
  await speech.write({ kind: 'end', sentenceId, durationMs: 0 }, { signal });
}

export interface SendStageOptions {
  readonly speech: AudioQueue<SpeechItem>;
  readonly sink: SpeechSink;
  readonly gate: PlayedGate;
  readonly record: SpokenRecord;
  readonly playedAckGraceMs: number;
  readonly signal: AbortSignal;
}

/**
 * Frames → the session. Each `audio()` is awaited (the session's queue is the backpressure),
 * under a deadline of the audio still ahead of the caller plus grace; `sentenceEnd` follows the
 * last frame of each sentence.
 */
export async function runSendStage(options: SendStageOptions): Promise<void> {
  try {
    await sendLoop(options);
  } catch (err) {
    if (options.signal.aborted || isVoicewireError(err, 'VW_ERR_DEADLINE')) throw err;
    throw toStageError('send', err);
  }
}

async function sendLoop(options: SendStageOptions): Promise<void> {
  const { speech, sink, record, signal } = options;
  let current = -1;
  for (;;) {
    const item = await speech.read({ signal });
    if (!item) return;
    if (item.kind === 'end') {
      record.end(item.sentenceId);
      sink.sentenceEnd(item.sentenceId);
      continue;
    }
    // The transcript names what is actually said: a sentence whose synthesis failed before any
    // audio has an end but no start.
    if (item.sentenceId !== current) {
      current = item.sentenceId;
      sink.sentenceStarted(current, record.textOf(current));
    }
    record.addSent(item.sentenceId, item.durationMs);
    const deadlineMs = record.unplayedMs(options.gate.playedThrough) + options.playedAckGraceMs;
    await withDeadline(sink.audio(item.sentenceId, item.bytes, item.durationMs), deadlineMs, 'the session to accept audio', signal);
  }
}
