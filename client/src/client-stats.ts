/**
 * The figures VoicewireClient reports: player counters summed over connections (each connection
 * gets a fresh player), the server's latest `stats`, barge-ins, played-report cadence and protocol
 * errors, assembled into a ClientStats snapshot. Plain numbers only: bounded state.
 */
import { IntervalMeter } from './interval-meter.js';
import type { PlayerCounters } from './player-core.js';
import { addCounters, zeroCounters, type ClientState, type ClientStats } from './stats.js';
import type { PlayerStatus } from './worklet-messages.js';

/** The server's credit figures are trusted for this long after its last `stats`. */
const SERVER_STATS_FRESH_MS = 2_000;

/** What the client knows itself when a snapshot is taken. */
export interface LiveFigures {
  readonly state: ClientState;
  readonly sessionId: string | null;
  readonly epoch: number;
  readonly windowMs: number;
  readonly rttMs: number | null;
  readonly micFramesSent: number;
  readonly micFramesDropped: number;
  readonly reconnects: number;
}

export class CallFigures {
  private status: PlayerStatus | undefined;
  private carried: PlayerCounters = zeroCounters();
  private maxBufferedSamples = 0;
  private serverStats: { creditMs: number; serverBufferedMs: number; at: number } | undefined;
  private lastBargeIn: number | null = null;
  private bargeIns = 0;
  private reportsSent = 0;
  private readonly reportIntervals = new IntervalMeter();
  private protocolErrors = 0;

  /** @param playbackRate samples per second of the player, to turn sample counts into ms. */
  constructor(private readonly playbackRate: number) {}

  /** A new connection's player starts from zero: keep what the last one counted. */
  newPlayer(): void {
    if (this.status) this.carried = addCounters(this.carried, this.status.counters);
    this.status = undefined;
  }

  onStatus(status: PlayerStatus): void {
    this.status = status;
    if (status.maxBufferedSamples > this.maxBufferedSamples) this.maxBufferedSamples = status.maxBufferedSamples;
  }

  onServerStats(creditMs: number, serverBufferedMs: number): void {
    this.serverStats = { creditMs, serverBufferedMs, at: performance.now() };
  }

  onBargeIn(silenceMs: number | undefined): void {
    this.bargeIns++;
    if (silenceMs !== undefined) this.lastBargeIn = silenceMs;
  }

  onReportSent(): void {
    this.reportsSent++;
    this.reportIntervals.note(performance.now());
  }

  /** Silence between utterances is not a late report: the cadence meter pauses while nothing plays. */
  onPlaying(playing: boolean): void {
    if (!playing) this.reportIntervals.pause();
  }

  onProtocolError(): void {
    this.protocolErrors++;
  }

  snapshot(live: LiveFigures): ClientStats {
    const rate = this.playbackRate;
    const counters = addCounters(this.carried, this.status?.counters ?? zeroCounters());
    const windowMs = live.windowMs;
    const bufferedMs = ((this.status?.bufferedSamples ?? 0) * 1000) / rate;
    const fresh = this.serverStats !== undefined && performance.now() - this.serverStats.at < SERVER_STATS_FRESH_MS;
    return {
      state: live.state,
      sessionId: live.sessionId,
      epoch: live.epoch,
      bufferedMs,
      maxBufferedMs: (this.maxBufferedSamples * 1000) / rate,
      playedMs: ((this.status?.playedSamples ?? 0) * 1000) / rate,
      windowMs,
      creditMs: fresh && this.serverStats ? this.serverStats.creditMs : Math.max(0, windowMs - bufferedMs),
      serverBufferedMs: fresh && this.serverStats ? this.serverStats.serverBufferedMs : null,
      rttMs: live.rttMs,
      lastBargeInMs: this.lastBargeIn,
      bargeIns: this.bargeIns,
      framesDroppedStale: counters.framesStale,
      framesOverflow: counters.framesOverflow,
      underruns: counters.underruns,
      reportsSent: this.reportsSent,
      reportIntervalMeanMs: this.reportIntervals.meanMs ?? null,
      reportIntervalMaxMs: this.reportIntervals.maxMs ?? null,
      micFramesSent: live.micFramesSent,
      micFramesDropped: live.micFramesDropped,
      reconnects: live.reconnects,
      protocolErrors: this.protocolErrors,
    };
  }
}
