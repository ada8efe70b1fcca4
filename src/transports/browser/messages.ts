/**
 * Typed messages of the voicewire browser protocol, version 1 (docs/browser-protocol.md is the
 * reference). Control messages are JSON text frames with a `type` field; audio travels in binary
 * frames (see frames.ts). This file is shared by the server adapter, the browser SDK and the fake
 * client in tests, so it imports nothing that needs Node.
 */

export const PROTOCOL_VERSION = 1;

/** Sample rates a v1 peer may ask for, in either direction (PCM16 LE mono). */
export const WIRE_RATES = [16000, 24000] as const;
export type WireRate = (typeof WIRE_RATES)[number];
export const DEFAULT_PLAYBACK_RATE: WireRate = 24000;
export const DEFAULT_MIC_RATE: WireRate = 16000;

/** The server clamps the player window the client asks for to this range (ms of audio). */
export const MIN_WINDOW_MS = 200;
export const MAX_WINDOW_MS = 2000;
export const DEFAULT_WINDOW_MS = 800;

/** Largest control message in either direction, in UTF-8 bytes. */
export const MAX_CONTROL_BYTES = 4096;
/** Largest mic frame a client may send, in ms of audio. */
export const MAX_MIC_FRAME_MS = 100;
/** Largest audio frame the server sends, in ms of audio. */
export const MAX_AUDIO_FRAME_MS = 200;
/** Bounds on `hello.parameters`. */
export const MAX_PARAMETERS = 16;
export const MAX_PARAMETER_NAME_CHARS = 64;
export const MAX_PARAMETER_VALUE_CHARS = 256;
/** Bound on free text fields (`transcript.text`, `error.message`), in UTF-16 code units. */
export const MAX_TEXT_CHARS = 1000;
/** Bound on short strings (`bye.reason`, `error.code`, `error.detail`, `ready.sessionId`). */
export const MAX_SHORT_CHARS = 123;

export interface PcmFormat {
  readonly encoding: 'pcm16';
  readonly sampleRate: WireRate;
}

// ---- client → server ------------------------------------------------------------------------

export interface HelloMessage {
  readonly type: 'hello';
  readonly version: number;
  /** Rate the client's player runs at; default 24000. */
  readonly playbackRate?: WireRate;
  /** Rate of the mic frames the client will send; default 16000. */
  readonly micRate?: WireRate;
  /** Capacity of the client's player in ms; the server clamps it to 200–2000. */
  readonly windowMs?: number;
  /** Free-form string pairs for the application (logged, passed to the session). */
  readonly parameters?: Readonly<Record<string, string>>;
}

/** Cumulative ms of `epoch`'s audio the player has finished with (output, or skipped as overflow). */
export interface PlayedMessage {
  readonly type: 'played';
  readonly epoch: number;
  readonly playedMs: number;
}

/** Every sample of sentence `sentenceId` of `epoch` has been output. */
export interface SentencePlayedMessage {
  readonly type: 'sentence_played';
  readonly epoch: number;
  readonly sentenceId: number;
}

/** Either side may ping; the other answers `pong` with the same `id` and `t` at once. */
export interface PingMessage {
  readonly type: 'ping';
  readonly id: number;
  /** The sender's clock in ms (opaque to the receiver). */
  readonly t: number;
}

export interface PongMessage {
  readonly type: 'pong';
  readonly id: number;
  readonly t: number;
}

export interface ByeMessage {
  readonly type: 'bye';
  readonly reason?: string;
}

export type ClientMessage = HelloMessage | PlayedMessage | SentencePlayedMessage | PingMessage | PongMessage | ByeMessage;

// ---- server → client ------------------------------------------------------------------------

export interface ReadyMessage {
  readonly type: 'ready';
  readonly version: number;
  readonly sessionId: string;
  readonly playback: PcmFormat;
  readonly mic: PcmFormat;
  /** Epoch of the audio that follows until the first `clear`. */
  readonly epoch: number;
  /** Accepted window (ms): the player's capacity, and the most audio the server keeps in flight. */
  readonly windowMs: number;
  /** The server pings (WebSocket ping) at this interval; a client may use it to judge liveness. */
  readonly heartbeatMs: number;
  readonly maxMicFrameMs: number;
}

/** Sent after the last audio frame of a sentence; the client answers `sentence_played` once it has played. */
export interface SentenceEndMessage {
  readonly type: 'sentence_end';
  readonly epoch: number;
  readonly sentenceId: number;
}

/** Drop everything queued at once; audio that follows belongs to `epoch`. */
export interface ClearMessage {
  readonly type: 'clear';
  readonly epoch: number;
}

export type TranscriptRole = 'user' | 'assistant';

export interface TranscriptMessage {
  readonly type: 'transcript';
  readonly role: TranscriptRole;
  readonly text: string;
  /** True on the last piece of an utterance. */
  readonly final: boolean;
}

export const CONVERSATION_STATES = ['listening', 'thinking', 'speaking'] as const;
export type ConversationState = (typeof CONVERSATION_STATES)[number];

export interface StateMessage {
  readonly type: 'state';
  readonly state: ConversationState;
}

/** The server's view of the flow (all ms of audio). */
export interface StatsMessage {
  readonly type: 'stats';
  /** Audio the server may still send before the client's window is full. */
  readonly creditMs: number;
  readonly windowMs: number;
  /** Model audio waiting in the gateway for credit. */
  readonly serverBufferedMs: number;
  /** Audio sent but not yet reported played. */
  readonly inFlightMs?: number;
  /** Server side of the last barge-in: speech start seen → `clear` written. */
  readonly lastBargeInMs?: number;
  /** Round trip measured by the server's own pings. */
  readonly rttMs?: number;
}

/**
 * The agent hands the call on to `to` (E.164 or a SIP URI): the page may dial it or show it. The
 * server closes the connection (1000, `transfer`) right after.
 */
export interface TransferMessage {
  readonly type: 'transfer';
  readonly to: string;
}

export interface ErrorMessage {
  readonly type: 'error';
  /** A VW_ERR_* code. */
  readonly code: string;
  readonly message: string;
  /** The field (VW_ERR_BAD_FIELD), frame reason (VW_ERR_BAD_FRAME) or event name it is about. */
  readonly detail?: string;
}

export type ServerMessage =
  | ReadyMessage
  | SentenceEndMessage
  | ClearMessage
  | TranscriptMessage
  | StateMessage
  | StatsMessage
  | ErrorMessage
  | TransferMessage
  | PingMessage
  | PongMessage;

export type ControlMessage = ClientMessage | ServerMessage;

export const CLIENT_MESSAGE_TYPES = ['hello', 'played', 'sentence_played', 'ping', 'pong', 'bye'] as const satisfies ReadonlyArray<ClientMessage['type']>;
export const SERVER_MESSAGE_TYPES = [
  'ready', 'sentence_end', 'clear', 'transcript', 'state', 'stats', 'error', 'transfer', 'ping', 'pong',
] as const satisfies ReadonlyArray<ServerMessage['type']>;

/** Clamps a requested window to what v1 allows (whole ms). */
export function clampWindowMs(ms: number): number {
  return Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, Math.round(ms)));
}

export function isWireRate(value: unknown): value is WireRate {
  return value === 16000 || value === 24000;
}
