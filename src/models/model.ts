/**
 * One interface for every backend (OpenAI Realtime, the cascade, Gemini Live, Deepgram Voice Agent,
 * ElevenLabs Agents). The session talks only to this.
 * Model audio is delivered in the *caller's* format: backends convert (or ask the model for it).
 */
import type { AudioFormat } from '../audio/format.js';
import type { VoicewireError } from '../errors.js';

export interface ModelAudio {
  /** Response this audio belongs to; audio of a response the session interrupted is dropped. */
  readonly responseId: string;
  /** Conversation item id (for truncation). */
  readonly itemId: string;
  /** Sentence number within the response; increases by one at each sentence boundary. */
  readonly sentenceId: number;
  /** Owned by the receiver: a backend never reuses or mutates it after delivery. */
  readonly bytes: Uint8Array;
  readonly durationMs: number;
}

/** A function the model may call (JSON Schema parameters), as both backends offer it. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** A function call the model made; `arguments` is the model's JSON string, unchecked. */
export interface ModelToolCall {
  readonly responseId: string;
  /** The model's id of this call (Realtime `call_id`, chat `tool_calls[].id`). */
  readonly callId: string;
  readonly name: string;
  readonly arguments: string;
}

/** Per-call settings (the setup webhook's answer); absent fields keep the backend's defaults. */
export interface ModelCallSettings {
  readonly instructions?: string;
  readonly voice?: string;
  readonly tools?: readonly ToolDefinition[];
}

/** Tokens one response consumed and produced, as the model reported them. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface ModelEvents {
  /** The model (or its VAD) detected the caller starting to speak: barge-in. */
  speechStarted(): void;
  speechStopped(): void;
  responseStarted(responseId: string): void;
  /**
   * Audio for the caller. A backend whose producer can be slowed (the cascade) awaits the returned
   * promise before producing more; a backend that must keep reading its socket (Realtime) ignores it.
   */
  audio(chunk: ModelAudio): Promise<void>;
  /** The last audio of a sentence was delivered (the cascade; Realtime reports item ends). */
  sentenceEnd(responseId: string, sentenceId: number): void;
  /** The response ended with `status`; `usage` when the model reported its token counts. */
  responseDone(responseId: string, status: string, usage?: TokenUsage): void;
  /** Text the model said (transcript), for logs and the browser demo. */
  transcript(responseId: string, text: string): void;
  /**
   * The model asked for function calls (delivered once its response is done, in output order).
   * The session answers each with `toolResult`.
   */
  toolCalls?(calls: readonly ModelToolCall[]): void;
  /** What the caller said, as the model's transcription heard it. */
  callerTranscript?(itemId: string | undefined, text: string): void;
  /** A non-fatal model error (logged with its code; the call goes on). */
  error(error: VoicewireError): void;
  /** The model connection ended for good (after any reconnect attempt). */
  closed(reason: string, error?: VoicewireError): void;
}

/** Every model backend voicewire can bridge a call to. */
export type ModelBackend = 'openai-realtime' | 'cascade' | 'gemini-live' | 'deepgram-agent' | 'elevenlabs-agent';

/** What the caller heard of an interrupted answer: `audioEndMs` of item `itemId`. */
export interface HeardPoint {
  readonly itemId: string;
  readonly audioEndMs: number;
}

/**
 * `interrupt`'s argument when what the caller heard is not known yet: it is known once the caller
 * confirms the `clear` (the marker sent behind it comes back), and follows in `heard()`.
 */
export const HEARD_PENDING = 'pending';

export interface ModelSession {
  readonly backend: ModelBackend;
  /** True when `audio()`'s promise slows the producer (a full queue pauses the model). */
  readonly pausable: boolean;
  attach(events: ModelEvents): void;
  connect(): Promise<void>;
  /** Caller audio in the caller's format. */
  appendAudio(bytes: Uint8Array, durationMs: number): void;
  /**
   * Interrupt: cancel the active response, if any (never when none is active), at once. With a
   * `HeardPoint` the model is also told what was heard now; with `HEARD_PENDING` that follows in
   * `heard()`, and until then a backend that can (Realtime) holds its next answer, so it is never
   * generated from an untruncated conversation.
   */
  interrupt(heard: HeardPoint | undefined | typeof HEARD_PENDING): void;
  /**
   * After `interrupt(HEARD_PENDING)`: what the caller heard of the interrupted speech (undefined:
   * nothing to truncate). Truncates (or tells the model) and releases a held answer. Every
   * backend has it; a session without it (a test double) is told at once instead.
   */
  heard?(heard: HeardPoint | undefined): void;
  close(): void;
  /** The caller's player finished sentence `sentenceId` (played-ACK); backends that gate on it use it. */
  sentencePlayed?(sentenceId: number): void;
  /**
   * A function call's output. With `respond`, the model answers it now; without (the caller
   * barged in since), it is only added to the conversation and the caller's next turn answers.
   */
  toolResult?(callId: string, output: string, respond: boolean): void;
  /** Says `text` to the caller as the opening line (the setup's greeting). */
  greet?(text: string): void;
  /** Bytes waiting in the model socket's send buffer (for the watchdog and metrics); 0 when none. */
  bufferedAmount?(): number;
}

export interface ModelFactoryOptions {
  /** The caller's audio format: the backend delivers model audio in it and accepts caller audio in it. */
  readonly callerFormat: AudioFormat;
  readonly callId: string;
  /** Per-call settings from the call's setup. */
  readonly settings?: ModelCallSettings;
}

export type ModelFactory = (options: ModelFactoryOptions) => ModelSession;
