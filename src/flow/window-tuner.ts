/**
 * The adaptive credit window (`CREDIT_WINDOW_MS=auto`). With predictive credit the caller holds
 * window − RTT in steady state, and a stall (a lost segment held for a retransmission timeout)
 * longer than that empties its player. So the window must cover the round trip, its variation and
 * the longest recent stall:
 *
 *   need = srtt + 4·rttvar + stall + margin            (margin 100 ms)
 *
 * - srtt, rttvar: RFC 6298 smoothing (gains 1/8, 1/4) of the round-trip samples of the PlayoutModel
 *   (the first confirmation after a send from dry, or the marker behind a clear).
 * - stall: the largest lateness of a confirmation against the model's prediction, decaying with a
 *   20 s half-life; an underrun (the gateway's view) grows the window by 200 ms at once and raises
 *   stall so that need covers the new window (it then decays like any stall; below 5 ms it is 0).
 *
 * Grow at once when need exceeds the window (to need, rounded up to 50 ms). Shrink by one 50 ms
 * step at most every 5 s, only while the window is more than need + 100 ms (hysteresis: a window
 * never shrinks into the zone where the next late echo grows it again), and only once a round trip
 * has been measured. Always within the bounds (400–1 500 ms, or the caller's own capacity).
 */
import { vwError } from '../errors.js';
import type { EchoSample } from './playout-model.js';

export const AUTO_WINDOW_MIN_MS = 400;
export const AUTO_WINDOW_MAX_MS = 1_500;
const MARGIN_MS = 100;
const STEP_MS = 50;
const UNDERRUN_STEP_MS = 200;
const HYSTERESIS_MS = 100;
const SHRINK_EVERY_MS = 5_000;
const STALL_HALF_LIFE_MS = 20_000;
const STALL_GONE_MS = 5;

export type WindowReason = 'rtt' | 'late-echo' | 'underrun' | 'clean';

/** A change of the window, for the log and the metrics. */
export interface WindowChange {
  readonly windowMs: number;
  readonly previousMs: number;
  readonly reason: WindowReason;
  /** need (see the module comment) when the change was made, ms. */
  readonly needMs: number;
}

export interface WindowTunerOptions {
  /** Window to start with (clamped to the bounds). */
  readonly initialMs: number;
  /** Bounds; default 400 and 1 500. A caller's capacity below 400 lowers both. */
  readonly minMs?: number;
  readonly maxMs?: number;
}

export class WindowTuner {
  readonly minMs: number;
  readonly maxMs: number;
  private window: number;
  private srtt: number | undefined;
  private rttvar = 0;
  private stallMs = 0;
  private stallAt = 0;
  private lastChangeAt: number | undefined;

  constructor(options: WindowTunerOptions) {
    const max = options.maxMs ?? AUTO_WINDOW_MAX_MS;
    const min = Math.min(options.minMs ?? AUTO_WINDOW_MIN_MS, max);
    for (const value of [options.initialMs, min, max]) {
      if (!Number.isFinite(value) || value <= 0) throw vwError('VW_ERR_INVALID_SIZE', String(value));
    }
    this.minMs = min;
    this.maxMs = max;
    this.window = clamp(options.initialMs, min, max);
  }

  get windowMs(): number {
    return this.window;
  }

  /** Smoothed round trip (undefined before the first sample). */
  get rttMs(): number | undefined {
    return this.srtt;
  }

  /** The window the link needs now (see the module comment), before rounding and bounds. */
  needMs(now: number): number {
    return (this.srtt ?? 0) + 4 * this.rttvar + this.stall(now) + MARGIN_MS;
  }

  /** A round-trip or lateness sample from the playout model; returns the change it made, if any. */
  observe(sample: EchoSample, now: number): WindowChange | undefined {
    if (!Number.isFinite(sample.ms) || !Number.isFinite(now)) return undefined;
    if (sample.kind === 'rtt') {
      const rtt = Math.max(0, sample.ms);
      if (this.srtt === undefined) {
        this.srtt = rtt;
        this.rttvar = rtt / 2;
      } else {
        this.rttvar += (Math.abs(this.srtt - rtt) - this.rttvar) / 4;
        this.srtt += (rtt - this.srtt) / 8;
      }
    } else if (sample.ms > 0) {
      this.raiseStall(sample.ms, now);
    }
    return this.grow(now, sample.kind === 'rtt' ? 'rtt' : 'late-echo') ?? this.tick(now);
  }

  /** The caller's player ran dry in the middle of an answer (the gateway's view). */
  underrun(now: number): WindowChange | undefined {
    if (!Number.isFinite(now)) return undefined;
    const target = Math.min(this.maxMs, this.window + UNDERRUN_STEP_MS);
    // Hold the larger window: the stall term covers it and decays from here.
    this.raiseStall(target - (this.needMs(now) - this.stall(now)), now);
    return this.change(target, 'underrun', now);
  }

  /** Shrinks one step when the link has been clean long enough; call it as time passes (e.g. on reports). */
  tick(now: number): WindowChange | undefined {
    if (this.srtt === undefined || !Number.isFinite(now)) return undefined;
    if (this.lastChangeAt === undefined) this.lastChangeAt = now;
    if (now - this.lastChangeAt < SHRINK_EVERY_MS) return undefined;
    const floor = Math.max(this.minMs, roundUp(this.needMs(now)) + HYSTERESIS_MS);
    if (this.window - STEP_MS < floor) return undefined;
    return this.change(this.window - STEP_MS, 'clean', now);
  }

  private grow(now: number, reason: WindowReason): WindowChange | undefined {
    const need = Math.min(this.maxMs, roundUp(this.needMs(now)));
    return need > this.window ? this.change(need, reason, now) : undefined;
  }

  private change(windowMs: number, reason: WindowReason, now: number): WindowChange | undefined {
    const next = clamp(windowMs, this.minMs, this.maxMs);
    if (next === this.window) return undefined;
    const previousMs = this.window;
    this.window = next;
    this.lastChangeAt = now;
    return { windowMs: next, previousMs, reason, needMs: Math.round(this.needMs(now)) };
  }

  private stall(now: number): number {
    if (this.stallMs === 0) return 0;
    const decayed = this.stallMs * 2 ** (-Math.max(0, now - this.stallAt) / STALL_HALF_LIFE_MS);
    // A decayed stall of a few ms is gone: otherwise it would hold the window one step up forever.
    return decayed < STALL_GONE_MS ? 0 : decayed;
  }

  private raiseStall(ms: number, now: number): void {
    const current = this.stall(now);
    if (ms <= current) return;
    this.stallMs = ms;
    this.stallAt = now;
  }
}

function roundUp(ms: number): number {
  return Math.ceil(ms / STEP_MS) * STEP_MS;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
