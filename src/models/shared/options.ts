/**
 * Options every socket-bridged model backend (Gemini Live, Deepgram Voice Agent, ElevenLabs
 * Agents) shares: bounds, deadlines, reconnect policy and the socket implementation. Validated in
 * one place; a bad value is VW_ERR_CONFIG at construction, never a surprise mid-call.
 */
import WebSocket from 'ws';
import { vwError } from '../../errors.js';

/** Largest `inputBatchMs` accepted: a bound on the latency batching may add to what the model hears. */
export const MAX_INPUT_BATCH_MS = 200;
/** Largest `inputIdleBatchMs` accepted: a bound on how late quiet audio reaches a model that hears no speech. */
export const MAX_INPUT_IDLE_BATCH_MS = 1000;

/** The subset of pino's API the backends use; a pino Logger fits. */
export interface LoggerLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The `ws` constructor, or a compatible one (tests, instrumentation). */
export type WebSocketConstructor = new (url: string, options: WebSocket.ClientOptions) => WebSocket;

export interface LinkOptions {
  readonly logger?: LoggerLike;
  /** Reconnects after an unexpected drop: attempts per drop (default 1) and the wait before each (500 ms). */
  readonly reconnect?: { readonly attempts?: number; readonly backoffMs?: number };
  /** Bound on caller audio waiting for the model socket, in ms (default 2000); the oldest is dropped. */
  readonly inputQueueMs?: number;
  /**
   * Gather caller frames into messages of at least this many ms (default 0: one message per frame;
   * at most 200). Fewer, larger messages cost less CPU; the model hears audio up to this much later.
   */
  readonly inputBatchMs?: number;
  /**
   * While the model's turn detector hears no speech (backends that report it: OpenAI Realtime's
   * server VAD), gather quiet caller frames into messages of this many ms instead (default 0: as
   * `inputBatchMs`; at most 1000). No turn is ending then, so the delay costs no answer latency.
   */
  readonly inputIdleBatchMs?: number;
  /** Above this many bytes in the socket's send buffer, caller audio waits in the queue (256 KiB). */
  readonly maxBufferedBytes?: number;
  /** Deadline for the socket to open and the provider's handshake answer to arrive (10000 ms). */
  readonly connectTimeoutMs?: number;
  /** WebSocket ping interval (default 10000 ms; 0 disables). */
  readonly heartbeatMs?: number;
  /** Pings left unanswered before the socket is treated as dropped (default 2). */
  readonly missedPongsLimit?: number;
  /** Largest message accepted from the model (default 16 MiB). */
  readonly maxPayload?: number;
  readonly WebSocketImpl?: WebSocketConstructor;
}

export interface ResolvedLinkOptions {
  readonly logger: LoggerLike;
  readonly reconnectAttempts: number;
  readonly reconnectBackoffMs: number;
  readonly inputQueueMs: number;
  readonly inputBatchMs: number;
  readonly inputIdleBatchMs: number;
  readonly maxBufferedBytes: number;
  readonly connectTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly missedPongsLimit: number;
  readonly maxPayload: number;
  readonly WebSocketImpl: WebSocketConstructor;
}

const noop = (): void => undefined;
/** Used when no logger is given: a backend never requires one. */
export const SILENT_LOGGER: LoggerLike = { debug: noop, info: noop, warn: noop, error: noop };

function bounded(name: string, value: number, allowZero: boolean): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw vwError('VW_ERR_CONFIG', `${name} must be a finite number ${allowZero ? '>= 0' : '> 0'} (got ${value})`);
  }
  return value;
}

/** `inputBatchMs` checked: a whole number in 0–{@link MAX_INPUT_BATCH_MS}, default 0; VW_ERR_CONFIG otherwise. */
export function inputBatchMsOf(value: number | undefined): number {
  const ms = value ?? 0;
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_INPUT_BATCH_MS) {
    throw vwError('VW_ERR_CONFIG', `inputBatchMs must be a whole number in 0–${MAX_INPUT_BATCH_MS} (got ${ms})`);
  }
  return ms;
}

/** `inputIdleBatchMs` checked: a whole number in 0–{@link MAX_INPUT_IDLE_BATCH_MS}, default 0; VW_ERR_CONFIG otherwise. */
export function inputIdleBatchMsOf(value: number | undefined): number {
  const ms = value ?? 0;
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_INPUT_IDLE_BATCH_MS) {
    throw vwError('VW_ERR_CONFIG', `inputIdleBatchMs must be a whole number in 0–${MAX_INPUT_IDLE_BATCH_MS} (got ${ms})`);
  }
  return ms;
}

/** Applies defaults and checks every bound is finite; throws VW_ERR_CONFIG on a bad value. */
export function resolveLinkOptions(options: LinkOptions): ResolvedLinkOptions {
  const reconnect = options.reconnect ?? {};
  return {
    logger: options.logger ?? SILENT_LOGGER,
    reconnectAttempts: bounded('reconnect.attempts', reconnect.attempts ?? 1, true),
    reconnectBackoffMs: bounded('reconnect.backoffMs', reconnect.backoffMs ?? 500, true),
    inputQueueMs: bounded('inputQueueMs', options.inputQueueMs ?? 2000, false),
    inputBatchMs: inputBatchMsOf(options.inputBatchMs),
    inputIdleBatchMs: inputIdleBatchMsOf(options.inputIdleBatchMs),
    maxBufferedBytes: bounded('maxBufferedBytes', options.maxBufferedBytes ?? 256 * 1024, true),
    connectTimeoutMs: bounded('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, false),
    heartbeatMs: bounded('heartbeatMs', options.heartbeatMs ?? 10_000, true),
    missedPongsLimit: bounded('missedPongsLimit', options.missedPongsLimit ?? 2, false),
    maxPayload: bounded('maxPayload', options.maxPayload ?? 16 * 1024 * 1024, false),
    WebSocketImpl: options.WebSocketImpl ?? WebSocket,
  };
}

/** Checks a ws(s) URL; throws VW_ERR_CONFIG otherwise. */
export function checkSocketUrl(name: string, url: string): string {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw vwError('VW_ERR_CONFIG', `${name} ${url} is not a URL`);
  }
  if (protocol !== 'wss:' && protocol !== 'ws:') throw vwError('VW_ERR_CONFIG', `${name} ${url} is not ws(s)`);
  return url;
}

/** A required non-empty string option; throws VW_ERR_CONFIG otherwise. */
export function required(name: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw vwError('VW_ERR_CONFIG', `${name} is empty`);
  return value;
}
