/**
 * A model of the caller's player, for credit (not for truncation: that is PlayoutTracker's job).
 * The caller's player drains at exactly real time, so the gateway can predict how far it has
 * played from the last confirmation (a Twilio mark echo, a browser played report) instead of
 * waiting for the next one, which the same network delays. Confirmations correct the model.
 *
 *   predicted(now) = max(floor, min(sent, anchorPos + (now − anchorAt), confirmed + leadMs))
 *
 * - The anchor is the last confirmation (position, arrival time): playback runs in real time from
 *   there while audio is buffered, and cannot pass what was sent (an underrun stops it there).
 * - floor is the prediction when the last confirmation arrived: a confirmation that lags the
 *   prediction (it left the caller an uplink delay ago, or was held by a stall) corrects the
 *   extrapolation but never moves the prediction back. So the prediction only grows between
 *   resets, and a sender that spends only credit (window − (sent − predicted)) never has more
 *   than the window in flight by the model.
 * - When the model finds the player dry at a send (predicted ≥ sent: the start of an answer, or an
 *   underrun), the prediction stays at that position until the next confirmation: the player
 *   restarts when the audio arrives, which only the caller knows. (Extrapolating from the send
 *   would run ahead of the caller whenever that first audio is delayed — a lost segment at the
 *   start of an answer — and the caller would hold more than the window.)
 *
 * Why this keeps the caller's buffer within the window: an echo left the caller an uplink delay
 * before it arrived, so the extrapolation from it lags the caller's true position; audio sent at
 * t reaches the caller at t + d, when it has played at least predicted(t). In steady state the
 * caller holds window − RTT.
 *
 * Why the lead bound (`leadMs` past the last confirmation, default 250 = one mark interval of
 * 200 ms + 50 ms of jitter): the extrapolation assumes the caller is playing. After a downlink stall
 * longer than its buffer it is not (it ran dry), yet the model keeps it playing; when the stalled
 * audio arrives the caller holds window + (predicted − played). Confirmations keep coming while the
 * caller plays (one per mark interval), so a silence past one interval plus jitter means the
 * caller may be dry: the prediction stops there. That bounds the overshoot by `leadMs`, and only
 * after a stall that already emptied the caller's player; and on an uplink stall (echoes held,
 * the caller playing) credit still flows for `leadMs` more, so the caller survives an echo delay
 * of window + leadMs − RTT instead of window − RTT − one interval. (A media-stream mark follows
 * the media message during which 200 ms accumulated, or one after which another of its size would
 * take the next mark past 250 ms (twilio/mark-ledger.ts), so with sends of one size the interval is
 * at most 250 ms — 200 ms in the steady state of 100 ms model deltas at the default sendChunkMs —
 * and only sends of mixed sizes can stretch it towards 200 ms + one send.)
 *
 * Samples for the adaptive window come out of `confirm`: the round trip (the first confirmation
 * past a send from dry: arrival − send time − the audio played in between; or the confirmation of
 * position 0 right after a reset: the marker sent behind the clear) and the lateness of a
 * confirmation against the extrapolation from the previous one (0 on a clean link; a stall's
 * length otherwise).
 */
import { vwError } from '../errors.js';
import { assertPosition, assertSize } from './sizes.js';

export interface PlayoutModelOptions {
  /** How far the prediction may run past the last confirmation (ms). Default 250. */
  readonly leadMs?: number;
}

/** A measurement taken from a confirmation. */
export type EchoSample =
  | { readonly kind: 'rtt'; readonly ms: number }
  | { readonly kind: 'lateness'; readonly ms: number };

export const DEFAULT_LEAD_MS = 250;

export class PlayoutModel {
  readonly leadMs: number;
  private sentTotal = 0;
  private confirmed = 0;
  /** The prediction when the last confirmation arrived (or where the player ran dry): it never goes back. */
  private floor = 0;
  /** The last confirmation; undefined before one, and after the player ran dry (frozen at floor). */
  private anchorMs = 0;
  private anchorAt: number | undefined;
  /** A send from dry whose first confirmation past it gives a round trip. */
  private probe: { readonly positionMs: number; readonly at: number } | undefined;
  /** When the last reset's clear was sent: a confirmation of position 0 (the marker behind it) gives a round trip. */
  private clearSentAt: number | undefined;

  constructor(options: PlayoutModelOptions = {}) {
    const lead = options.leadMs ?? DEFAULT_LEAD_MS;
    assertSize(lead);
    this.leadMs = lead;
  }

  get sentMs(): number {
    return this.sentTotal;
  }

  /** Highest confirmed position (≤ sentMs). */
  get confirmedMs(): number {
    return this.confirmed;
  }

  /** Predicted played position at `now` (see the module comment). */
  predicted(now: number): number {
    if (this.anchorAt === undefined) return this.floor;
    const elapsed = Math.max(0, now - this.anchorAt);
    if (Number.isNaN(elapsed)) return this.floor;
    return Math.max(this.floor, Math.min(this.sentTotal, this.anchorMs + elapsed, this.confirmed + this.leadMs));
  }

  /**
   * When the prediction reaches `positionMs` (a time ≥ now), or undefined when time alone never
   * gets it there (past what was sent, past the lead bound, or frozen: only a confirmation can).
   */
  reachesAt(positionMs: number, now: number): number | undefined {
    if (positionMs <= this.predicted(now)) return now;
    if (this.anchorAt === undefined) return undefined;
    if (positionMs > Math.min(this.sentTotal, this.confirmed + this.leadMs)) return undefined;
    return Math.max(now, this.anchorAt + (positionMs - this.anchorMs));
  }

  /** ms sent at `now`. A send to a dry player freezes the prediction there until the next confirmation. */
  sent(ms: number, now: number): void {
    assertSize(ms);
    if (!Number.isFinite(now)) throw vwError('VW_ERR_INVALID_SIZE', String(now));
    if (ms === 0) return;
    if (this.predicted(now) >= this.sentTotal) {
      this.floor = this.sentTotal;
      this.anchorAt = undefined;
      // The newest restart: the player was dry before it, so its first confirmation is a round trip.
      this.probe = { positionMs: this.sentTotal, at: now };
    }
    this.sentTotal += ms;
  }

  /**
   * Confirmed cumulative position at `now`. Regressions are ignored, positions past sentMs are
   * clamped. A repeat of the last position re-anchors (playback has not advanced since).
   * Returns a round-trip or lateness sample when this confirmation gives one.
   */
  confirm(playedMs: number, now: number): EchoSample | undefined {
    assertPosition(playedMs);
    if (!Number.isFinite(now)) throw vwError('VW_ERR_INVALID_SIZE', String(now));
    const position = Math.min(playedMs, this.sentTotal);
    if (position < this.confirmed) return undefined;
    let sample: EchoSample | undefined;
    const probe = this.probe;
    const clearSentAt = this.clearSentAt;
    this.clearSentAt = undefined; // only the first confirmation after a clear can be its marker
    if (clearSentAt !== undefined && position === 0) {
      sample = { kind: 'rtt', ms: Math.max(0, now - clearSentAt) };
    } else if (probe !== undefined && position > probe.positionMs) {
      this.probe = undefined;
      sample = { kind: 'rtt', ms: Math.max(0, now - probe.at - (position - probe.positionMs)) };
    } else if (this.anchorAt !== undefined && position > this.anchorMs) {
      sample = { kind: 'lateness', ms: now - this.anchorAt - (position - this.anchorMs) };
    }
    this.floor = Math.max(this.predicted(now), position);
    this.confirmed = position;
    // Position 0 (the marker behind a clear) says the caller is silent, not that playback of what
    // follows has started: the prediction stays frozen until audio is confirmed.
    if (position === 0) return sample;
    this.anchorMs = position;
    this.anchorAt = now;
    return sample;
  }

  /**
   * New epoch (the caller cleared its player). Given `now` (the clear was sent then), the first
   * confirmation of the new epoch, if it is of position 0 (the marker behind the clear), measures
   * the round trip.
   */
  reset(now?: number): void {
    this.sentTotal = 0;
    this.confirmed = 0;
    this.floor = 0;
    this.anchorMs = 0;
    this.anchorAt = undefined;
    this.probe = undefined;
    this.clearSentAt = now === undefined || !Number.isFinite(now) ? undefined : now;
  }
}
