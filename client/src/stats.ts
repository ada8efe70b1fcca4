/** What the SDK reports about a call, for readouts and tests (`window.voicewireStats` in the demo). */
import type { PlayerCounters } from './player-core.js';

export type ClientState = 'idle' | 'starting' | 'connecting' | 'awaiting-ready' | 'ready' | 'backoff' | 'closed';

export interface ClientStats {
  readonly state: ClientState;
  readonly sessionId: string | null;
  readonly epoch: number;
  /** Audio queued in the player now (ms). */
  readonly bufferedMs: number;
  /** Most audio the player has held (ms); never above windowMs. */
  readonly maxBufferedMs: number;
  /** Played position of the current epoch (ms). */
  readonly playedMs: number;
  /** The player window the server accepted (ms). */
  readonly windowMs: number;
  /** Credit: the server's figure when it sent one recently, else window − buffered. */
  readonly creditMs: number;
  readonly serverBufferedMs: number | null;
  /** Round trip of the SDK's own pings (ms). */
  readonly rttMs: number | null;
  /** Last interruption: `clear` arrived → the player's output went silent (ms, audio clock). */
  readonly lastBargeInMs: number | null;
  readonly bargeIns: number;
  /** Frames of an old epoch that arrived after a clear and were dropped. */
  readonly framesDroppedStale: number;
  /** Frames over the window (a server violation), skipped. */
  readonly framesOverflow: number;
  readonly underruns: number;
  readonly reportsSent: number;
  readonly reportIntervalMeanMs: number | null;
  readonly reportIntervalMaxMs: number | null;
  readonly micFramesSent: number;
  readonly micFramesDropped: number;
  readonly reconnects: number;
  /** Malformed messages or frames from the server. */
  readonly protocolErrors: number;
}

/** Player counters summed over connections (each connection gets a fresh player). */
export function addCounters(a: PlayerCounters, b: PlayerCounters): PlayerCounters {
  const sum = { ...a };
  for (const key of Object.keys(b) as Array<keyof PlayerCounters>) sum[key] = a[key] + b[key];
  return sum;
}

export function zeroCounters(): PlayerCounters {
  return {
    framesAccepted: 0, framesStale: 0, samplesStale: 0, framesOverflow: 0, samplesOverflow: 0, clears: 0,
    implicitClears: 0, staleClears: 0, underruns: 0, sentenceMarkersDropped: 0, acksDropped: 0, reports: 0,
  };
}
