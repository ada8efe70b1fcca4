/**
 * A model of the caller's player, for credit (not for truncation: that is PlayoutTracker's job).
 * The caller's player drains at exactly real time, so the gateway can predict how far it has
 * played from what it sent and when, instead of waiting for each confirmation (a Twilio mark echo,
 * a browser played report) that the same network delays. Confirmations correct the model.
 *
 *   predicted(now) = max(confirmed, min(sent, anchorPos + (now − anchorAt), confirmed + leadMs))
 *
 * - The anchor is the last confirmation (position, arrival time). Playback runs in real time from
 *   there while audio is buffered; it cannot pass what was sent (an underrun stops it there).
 * - When the model finds the player dry at a send (predicted ≥ sent: the start of an answer, or
 *   after an underrun), playback restarts from that send: anchor = (sent, now).
 *
 * Why this keeps the caller's buffer within the window. An echo anchor lags the caller's true
 * position by the uplink delay u (the echo took u to arrive), a send anchor leads it by at most
 * the downlink delay d (the audio takes d to arrive, playback starts on arrival). Audio sent at t
 * reaches the caller at t + d, when it has played P(t + d) ≥ predicted(t); the sender keeps
 * sent − predicted ≤ window, so the caller holds at most the window. In steady state it holds
 * window − RTT.
 *
 * Why the lead bound (`leadMs` past the last confirmation). The prediction assumes the audio
 * arrived. After a downlink stall longer than the caller's buffer the player ran dry while the
 * model kept it playing; when the stalled audio arrives, the caller holds window + (predicted −
 * played). Confirmations keep coming as long as the caller plays, so a silence longer than one
 * confirmation interval plus the round trip means "stalled": the model stops there. That bounds
 * the overshoot by `leadMs` (only after a dry stall, which was an underrun anyway), and still lets
 * credit flow through an uplink stall for `leadMs` more, so the caller survives an echo delay of
 * window + leadMs − RTT instead of window − RTT − one interval. `leadMs` = `leadBaseMs` (one
 * confirmation interval plus jitter) + the smoothed RTT, which a send from dry needs to see its
 * first confirmation.
 *
 * Samples for the adaptive window come out of `confirm`: the round trip (the first confirmation
 * past a send from dry: arrival − send time − the audio played in between; or the confirmation of
 * position 0 right after a reset: the marker sent behind the clear) and the lateness of a
 * confirmation against the prediction from the previous one (0 on a clean link; a stall's length
 * otherwise).
 */
import { vwError } from '../errors.js';
import { assertPosition, assertSize } from './sizes.js';

export interface PlayoutModelOptions {
  /** Lead allowed past the last confirmation before the RTT is known, and added to it after. Default 250. */
  readonly leadBaseMs?: number;
}

/** A measurement taken from a confirmation. */
export type EchoSample =
  | { readonly kind: 'rtt'; readonly ms: number }
  | { readonly kind: 'lateness'; readonly ms: number };

export const DEFAULT_LEAD_BASE_MS = 250;
/** The RTT used in the lead bound is capped: a stuck echo path must not unbound the prediction. */
const MAX_RTT_IN_LEAD_MS = 1_000;

type AnchorKind = 'echo' | 'send';

export class PlayoutModel {
  readonly leadBaseMs: number;
  private sentTotal = 0;
  private confirmed = 0;
  private anchorMs = 0;
  private anchorAt: number | undefined;
  private anchorKind: AnchorKind = 'send';
  /** A send from dry whose first confirmation past it gives a round trip. */
  private probe: { readonly positionMs: number; readonly at: number } | undefined;
  /** When the last reset's clear was sent: a confirmation of position 0 (the marker behind it) gives a round trip. */
  private clearSentAt: number | undefined;
  private srtt: number | undefined;

  constructor(options: PlayoutModelOptions = {}) {
    const lead = options.leadBaseMs ?? DEFAULT_LEAD_BASE_MS;
    assertSize(lead);
    this.leadBaseMs = lead;
  }

  get sentMs(): number {
    return this.sentTotal;
  }

  /** Highest confirmed position (≤ sentMs). */
  get confirmedMs(): number {
    return this.confirmed;
  }

  /** Smoothed round trip of the confirmation path (undefined before the first sample). */
  get rttMs(): number | undefined {
    return this.srtt;
  }

  /** How far the prediction may run past the last confirmation. */
  get leadMs(): number {
    return this.leadBaseMs + Math.min(MAX_RTT_IN_LEAD_MS, this.srtt ?? 0);
  }

  /** Predicted played position at `now` (see the module comment). */
  predicted(now: number): number {
    if (this.anchorAt === undefined) return this.confirmed;
    const elapsed = Math.max(0, now - this.anchorAt);
    if (Number.isNaN(elapsed)) return this.confirmed;
    return Math.max(this.confirmed, Math.min(this.sentTotal, this.anchorMs + elapsed, this.confirmed + this.leadMs));
  }

  /**
   * When the prediction reaches `positionMs` (a time ≥ now), or undefined when time alone never
   * gets it there (past what was sent or the lead bound: only a confirmation can).
   */
  reachesAt(positionMs: number, now: number): number | undefined {
    if (positionMs <= this.predicted(now)) return now;
    if (this.anchorAt === undefined) return undefined;
    if (positionMs > Math.min(this.sentTotal, this.confirmed + this.leadMs)) return undefined;
    return Math.max(now, this.anchorAt + (positionMs - this.anchorMs));
  }

  /** ms sent at `now`. A send to a dry player restarts playback now. */
  sent(ms: number, now: number): void {
    assertSize(ms);
    if (!Number.isFinite(now)) throw vwError('VW_ERR_INVALID_SIZE', String(now));
    if (ms === 0) return;
    if (this.anchorAt === undefined || this.predicted(now) >= this.sentTotal) {
      this.anchorMs = this.sentTotal;
      this.anchorAt = now;
      this.anchorKind = 'send';
      this.probe = { positionMs: this.sentTotal, at: now }; // the newest restart: the player was dry before it
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
      sample = this.roundTrip(now - clearSentAt);
    } else if (probe !== undefined && position > probe.positionMs) {
      this.probe = undefined;
      sample = this.roundTrip(now - probe.at - (position - probe.positionMs));
    } else if (this.anchorKind === 'echo' && this.anchorAt !== undefined && position > this.anchorMs) {
      sample = { kind: 'lateness', ms: now - this.anchorAt - (position - this.anchorMs) };
    }
    this.confirmed = position;
    this.anchorMs = position;
    this.anchorAt = now;
    this.anchorKind = 'echo';
    return sample;
  }

  /**
   * New epoch (the caller cleared its player). Given `now` (the clear was sent then), the first
   * confirmation of the new epoch (the marker behind the clear) measures the round trip.
   * The smoothed RTT survives: it is the link's, not the epoch's.
   */
  reset(now?: number): void {
    this.sentTotal = 0;
    this.confirmed = 0;
    this.anchorMs = 0;
    this.anchorAt = undefined;
    this.anchorKind = 'send';
    this.probe = undefined;
    this.clearSentAt = now === undefined || !Number.isFinite(now) ? undefined : now;
  }

  private roundTrip(ms: number): EchoSample {
    const rtt = Math.max(0, ms);
    this.srtt = this.srtt === undefined ? rtt : this.srtt + (rtt - this.srtt) / 8;
    return { kind: 'rtt', ms: rtt };
  }
}
