/** What a CallSession is given: its transport and model, the bounds of its audio path, its agent. */
import type { Logger } from 'pino';
import type { AgentServices, TransferCall } from '../agent/services.js';
import type { ModelFactory } from '../models/model.js';
import type { CallerTransport } from '../transports/transport.js';
import type { SessionObserver } from './observer.js';

export interface CallSessionOptions {
  readonly transport: CallerTransport;
  readonly createModel: ModelFactory;
  readonly logger: Logger;
  /** Default credit window (ms) when the caller does not ask for one. */
  readonly creditWindowMs: number;
  /**
   * `CREDIT_WINDOW_MS=auto`: the window adapts to the link (400–1 500 ms, starting at
   * `creditWindowMs`); a window set by the call's setup stays fixed.
   */
  readonly adaptiveWindow?: boolean;
  /** Cap of model audio queued for the caller (ms); past it the response is cancelled. */
  readonly maxQueuedAudioMs: number;
  /** Queue bound for a pausable backend (ms): a full queue pauses it. */
  readonly pausableQueueMs?: number;
  /**
   * Longest piece of model audio sent in one message (ms). Credit is spent per piece, so the
   * caller never holds more than the window; larger pieces mean fewer messages (CPU) and fewer
   * queue items (memory), and the caller's buffer dips by up to one piece below the window before
   * credit covers the next. Small deltas queued back to back are coalesced up to it. Default 100:
   * 200 halves the media messages but keeps the caller ≈ 100 ms lower, and under 5 % loss each
   * way (docs/bench-netimpair.md) 3 in 10 and 2 in 10 runs then had an underrun (11–97 ms),
   * against the goal of at most 1 in 10, for no CPU gain the load bench could resolve.
   */
  readonly sendChunkMs?: number;
  /**
   * The start of audio to a dry player (an answer's first audio, or after an underrun) waits until
   * `startCushionMs` of it can go as one message, what follows cannot join, or `startHoldMs` passed
   * (defaults 300 and 60; `startCushionMs` 0 turns it off). The player starts on the first message,
   * so its length is all the caller has against a late second one: with 100 ms a lost segment
   * (a round trip or more to repair) is an audible gap at the answer's start.
   */
  readonly startCushionMs?: number;
  readonly startHoldMs?: number;
  /** A chunk may wait this long for credit before the call is declared stalled. */
  readonly playoutStallMs?: number;
  readonly sampleEveryMs?: number;
  /**
   * Longest wait at a barge-in for the caller to confirm the `clear` (the marker behind it) before
   * the model is truncated at the estimate of that moment (ms). Default 3000.
   */
  readonly truncateDeadlineMs?: number;
  /**
   * Local barge-in: the gateway's own VAD (src/audio/vad.ts) on the caller's audio interrupts the
   * answer once it hears this much speech (ms), before the model's VAD does (it hears the audio
   * later and wants more of it). 0 or absent: off, the model's speech start alone interrupts.
   */
  readonly localBargeInMs?: number;
  /**
   * How long a local barge-in holds the answer for the model to hear the caller speak too (ms).
   * It does: the barge-in stands. It does not: a false start (a cough, a door), and the caller
   * hears the answer again from where the clear stopped it. Default 1 000.
   */
  readonly localBargeInHoldMs?: number;
  readonly observer?: SessionObserver;
  readonly now?: () => number;
  /** Acting agents: per-call setup, tools, events, end/transfer. Absent: none of it. */
  readonly agent?: {
    readonly services: AgentServices;
    readonly transfer?: TransferCall;
    /** Longest wait for a goodbye to play before `end_call` hangs up anyway (ms). */
    readonly playedOutTimeoutMs?: number;
  };
}

export const DEFAULT_PAUSABLE_QUEUE_MS = 4_000;
export const DEFAULT_PLAYOUT_STALL_MS = 15_000;
export const DEFAULT_SEND_CHUNK_MS = 100;
export const DEFAULT_START_CUSHION_MS = 300;
export const DEFAULT_START_HOLD_MS = 60;
export const DEFAULT_TRUNCATE_DEADLINE_MS = 3_000;
export const DEFAULT_LOCAL_BARGE_IN_HOLD_MS = 1_000;
