/**
 * What the caller has actually heard. The gateway knows what it sent; the peer confirms what it
 * played (Twilio mark echoes, the browser's played reports). On barge-in the model must be told
 * where its speech was cut (`conversation.item.truncate` with `audio_end_ms`), so the tracker maps a
 * played position on the epoch's timeline back to "item X, N ms in".
 *
 * The timeline is a list of segments (one per run of consecutive sends of the same item), capped at
 * `maxItems`: the oldest segment, which is always the first to be fully played, is forgotten first,
 * so memory stays bounded however long the call.
 */
import { vwError } from '../errors.js';
import { Deque } from './deque.js';
import { assertPosition, assertSize } from './sizes.js';

export interface PlayoutTrackerOptions {
  /** Items remembered (oldest fully-played ones forgotten first). Default 32. */
  readonly maxItems?: number;
}

interface Segment {
  readonly itemId: string;
  readonly startMs: number;
  endMs: number;
}

const DEFAULT_MAX_ITEMS = 32;

/**
 * What was sent per item and what the peer confirmed as played, on one epoch's timeline (ms from the
 * epoch's first audio). Answers "ms of item X actually played" for truncation. Memory is bounded
 * by maxItems regardless of call length.
 */
export class PlayoutTracker {
  readonly maxItems: number;
  private readonly segments = new Deque<Segment>();
  private sentTotal = 0;
  private confirmed = 0;
  /** Where playback was known (or, after an underrun, assumed) to be, and when; the estimate runs from here. */
  private anchorMs = 0;
  private anchorAt: number | undefined;

  constructor(options: PlayoutTrackerOptions = {}) {
    const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
    if (!Number.isSafeInteger(maxItems) || maxItems < 1) throw vwError('VW_ERR_INVALID_SIZE', String(maxItems));
    this.maxItems = maxItems;
  }

  /** Total ms sent in this epoch. */
  get sentMs(): number {
    return this.sentTotal;
  }

  /** Highest confirmed played position (ms), ≤ sentMs. */
  get playedMs(): number {
    return this.confirmed;
  }

  /** Segments remembered now (≤ maxItems); exposed so tests and metrics can check the bound. */
  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Record ms of audio of `itemId` sent (appended to the timeline in send order).
   *
   * `nowMs` is optional: when given and playback had caught up with everything sent (an underrun),
   * playback is taken to resume now, so the estimate does not count the silent gap as played.
   */
  sent(itemId: string, ms: number, nowMs?: number): void {
    assertSize(ms);
    if (ms === 0) return;
    if (nowMs !== undefined && this.estimatePlayed(nowMs) >= this.sentTotal) {
      this.anchorMs = this.sentTotal;
      this.anchorAt = nowMs;
    }
    const last = this.segments.peekLast();
    if (last?.itemId === itemId) {
      last.endMs = this.sentTotal + ms;
    } else {
      this.segments.push({ itemId, startMs: this.sentTotal, endMs: this.sentTotal + ms });
      if (this.segments.length > this.maxItems) this.segments.shift();
    }
    this.sentTotal += ms;
  }

  /**
   * Confirmed cumulative played position at time `nowMs` (e.g. from a mark echo). Regressions
   * ignored; a position beyond what was sent is clamped to sentMs. A repeat of the last position at
   * a later time moves the estimate's starting point (playback has not advanced since).
   */
  confirm(playedMs: number, nowMs: number): void {
    assertPosition(playedMs);
    if (!Number.isFinite(nowMs)) throw vwError('VW_ERR_INVALID_SIZE', String(nowMs));
    const position = Math.min(playedMs, this.sentTotal);
    if (position < this.confirmed) return;
    this.confirmed = position;
    this.anchorMs = position;
    this.anchorAt = nowMs;
  }

  /**
   * Estimated played position at `nowMs`: last confirmation + time since it (playback runs in real
   * time while audio is buffered), never beyond sentMs (an underrun stops playback there) and never
   * below the confirmed position. Without any confirmation it is the confirmed position, 0.
   */
  estimatePlayed(nowMs: number): number {
    if (this.anchorAt === undefined) return this.confirmed;
    const elapsed = Math.max(0, nowMs - this.anchorAt);
    if (Number.isNaN(elapsed)) return this.confirmed;
    return Math.max(this.confirmed, Math.min(this.sentTotal, this.anchorMs + elapsed));
  }

  /** ms of `itemId` played by position `playedMs` (0 if the item had not started; its length if done). */
  playedOfItem(itemId: string, playedMs: number): number {
    assertPosition(playedMs);
    let total = 0;
    for (const segment of this.segments) {
      if (segment.itemId !== itemId) continue;
      total += Math.min(segment.endMs, Math.max(segment.startMs, playedMs)) - segment.startMs;
    }
    return total;
  }

  /**
   * The item playing at position `playedMs` (undefined when nothing was sent, or when that part of
   * the timeline has been forgotten). At a boundary the next item is "playing" at offset 0; at or
   * past the end of what was sent, the last item at its full length.
   */
  itemAt(playedMs: number): { itemId: string; offsetMs: number } | undefined {
    assertPosition(playedMs);
    const first = this.segments.peek();
    if (first === undefined || playedMs < first.startMs) return undefined;
    const segment = this.segmentAt(Math.min(playedMs, this.sentTotal));
    const position = Math.min(playedMs, this.sentTotal);
    return { itemId: segment.itemId, offsetMs: this.playedOfItem(segment.itemId, position) };
  }

  /**
   * A copy of this timeline (segments, sent, confirmed position and the estimate's anchor) that
   * later calls on this tracker do not change. At barge-in the session keeps the interrupted
   * epoch's copy to evaluate `estimatePlayed` later, when the caller confirms the `clear`.
   */
  freeze(): PlayoutTracker {
    const copy = new PlayoutTracker({ maxItems: this.maxItems });
    for (const segment of this.segments) copy.segments.push({ ...segment });
    copy.sentTotal = this.sentTotal;
    copy.confirmed = this.confirmed;
    copy.anchorMs = this.anchorMs;
    copy.anchorAt = this.anchorAt;
    return copy;
  }

  /** New epoch: forget everything. */
  reset(): void {
    this.segments.clear();
    this.sentTotal = 0;
    this.confirmed = 0;
    this.anchorMs = 0;
    this.anchorAt = undefined;
  }

  /** Binary search for the last segment starting at or before `position` (segments are contiguous). */
  private segmentAt(position: number): Segment {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.segments.at(mid) as Segment).startMs <= position) low = mid;
      else high = mid - 1;
    }
    return this.segments.at(low) as Segment;
  }
}
