/**
 * What a browser `hello` settles, as a pure step: the rates and player window it asks for (with
 * the server's defaults and clamp), the CallStart the session sees and the `ready` that answers it.
 * No I/O: the adapter sends `ready` and raises `start`. Beside it, the deadline for `hello` itself.
 */
import type { AudioFormat } from '../../audio/format.js';
import type { CallStart } from '../transport.js';
import {
  DEFAULT_MIC_RATE,
  DEFAULT_PLAYBACK_RATE,
  DEFAULT_WINDOW_MS,
  MAX_MIC_FRAME_MS,
  PROTOCOL_VERSION,
  clampWindowMs,
  type HelloMessage,
  type ReadyMessage,
  type WireRate,
} from './codec.js';
import type { BrowserTransportOptions } from './transport-options.js';

/** What `hello` settled. */
export interface BrowserNegotiation {
  /** PCM16 at the playback rate: the format of CallStart, in both directions. */
  readonly playback: AudioFormat;
  readonly playbackRate: WireRate;
  readonly micRate: WireRate;
  readonly windowMs: number;
}

/** The server side's part of a negotiation: the transport's options, its id and current epoch. */
export interface NegotiationContext extends Pick<BrowserTransportOptions, 'defaultWindowMs' | 'heartbeatMs' | 'parameters'> {
  readonly sessionId: string;
  /** The epoch announced in `ready`. */
  readonly epoch: number;
}

/** The outcome of one `hello`. */
export interface NegotiationResult {
  readonly negotiation: BrowserNegotiation;
  readonly start: CallStart;
  readonly ready: ReadyMessage;
}

/** Settles `hello` against the server's defaults; the window is clamped like any request. */
export function negotiate(hello: HelloMessage, context: NegotiationContext): NegotiationResult {
  const playbackRate = hello.playbackRate ?? DEFAULT_PLAYBACK_RATE;
  const micRate = hello.micRate ?? DEFAULT_MIC_RATE;
  const windowMs = clampWindowMs(hello.windowMs ?? context.defaultWindowMs ?? DEFAULT_WINDOW_MS);
  const playback: AudioFormat = { encoding: 'pcm16', sampleRate: playbackRate };
  const start: CallStart = {
    callId: context.sessionId,
    streamId: context.sessionId,
    parameters: { ...(hello.parameters ?? {}), ...(context.parameters ?? {}) },
    format: playback,
    creditWindowMs: windowMs,
  };
  const ready: ReadyMessage = {
    type: 'ready',
    version: PROTOCOL_VERSION,
    sessionId: context.sessionId,
    playback: { encoding: 'pcm16', sampleRate: playbackRate },
    mic: { encoding: 'pcm16', sampleRate: micRate },
    epoch: context.epoch,
    windowMs,
    heartbeatMs: context.heartbeatMs ?? 10_000,
    maxMicFrameMs: MAX_MIC_FRAME_MS,
  };
  return { negotiation: { playback, playbackRate, micRate, windowMs }, start, ready };
}

/**
 * The deadline for `hello`: `onExpired` runs once unless `stop()` came first. The timer is unref'd
 * so a silent connection never holds the process open.
 */
export class HelloDeadline {
  private timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, onExpired: (timeoutMs: number) => void) {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      onExpired(timeoutMs);
    }, timeoutMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
