/**
 * The player's bookkeeping, pure so it runs the same in the AudioWorklet, in Node tests and in the
 * fake browser client: a ring buffer bounded at the credit window, the cumulative played position
 * of the current epoch, sentence-end markers acknowledged once their last sample is output, and
 * `clear` (drop everything, move to the new epoch, refuse late frames of older epochs).
 *
 * Positions count samples of the epoch's stream. The played position advances only as samples
 * leave the ring through `render()` (the audio thread's real clock), so a report never claims
 * audio that has not been output. A frame that does not fit the window is a protocol violation:
 * it is counted and skipped, not stored, and the position jumps over it when playback reaches the
 * point where it would have played — so the server's credit heals and later sentence acks still
 * fall at the right place.
 */

export interface PlayerCoreOptions {
  readonly sampleRate: number;
  /** Capacity in ms of audio: the window the server accepted. */
  readonly capacityMs: number;
  readonly epoch?: number;
  /** A played report is due after this much output while playing. Default 50. */
  readonly reportEveryMs?: number;
  /** Sentence ends remembered while their audio is queued; also bounds pending acks. Default 256. */
  readonly maxPendingSentences?: number;
}

export type PushResult = 'accepted' | 'stale' | 'overflow';

export interface PlayedReport {
  readonly epoch: number;
  readonly playedMs: number;
}

export interface SentenceAck {
  readonly epoch: number;
  readonly sentenceId: number;
}

export interface PlayerCounters {
  framesAccepted: number;
  /** Frames of an epoch older than the current one, dropped on arrival. */
  framesStale: number;
  samplesStale: number;
  /** Frames that did not fit the window (protocol violation), skipped. */
  framesOverflow: number;
  samplesOverflow: number;
  clears: number;
  /** Frames of a newer epoch that arrived without a `clear` (treated as one). */
  implicitClears: number;
  /** `clear`s to an epoch that is not newer, ignored. */
  staleClears: number;
  /** The ring ran dry while a sentence was still open (more audio was expected). */
  underruns: number;
  sentenceMarkersDropped: number;
  acksDropped: number;
  reports: number;
}

interface Skip {
  at: number;
  count: number;
}

interface Marker {
  readonly position: number;
  readonly sentenceId: number;
}

const MAX_SKIPS = 64;

export class PlayerCore {
  readonly sampleRate: number;
  /** Ring capacity in samples. */
  readonly capacity: number;
  readonly counters: PlayerCounters = {
    framesAccepted: 0, framesStale: 0, samplesStale: 0, framesOverflow: 0, samplesOverflow: 0, clears: 0,
    implicitClears: 0, staleClears: 0, underruns: 0, sentenceMarkersDropped: 0, acksDropped: 0, reports: 0,
  };
  private readonly ring: Float32Array;
  private readIndex = 0;
  private length = 0;
  private readonly reportEverySamples: number;
  private readonly maxPendingSentences: number;

  private epochValue: number;
  /** Samples of the epoch received (accepted or skipped). */
  private received = 0;
  /** Samples of the epoch output or skipped. */
  private played = 0;
  private lastReported = 0;
  private maxBuffered = 0;
  private playingNow = false;
  private openSentence = false;
  private lastSentenceId = -1;
  private skips: Skip[] = [];
  private markers: Marker[] = [];
  private acks: SentenceAck[] = [];

  constructor(options: PlayerCoreOptions) {
    if (!(options.sampleRate > 0) || !Number.isFinite(options.sampleRate)) throw new RangeError(`bad sampleRate ${options.sampleRate}`);
    if (!(options.capacityMs > 0) || !Number.isFinite(options.capacityMs)) throw new RangeError(`bad capacityMs ${options.capacityMs}`);
    this.sampleRate = options.sampleRate;
    this.capacity = Math.max(1, Math.round((options.capacityMs * options.sampleRate) / 1000));
    this.ring = new Float32Array(this.capacity);
    this.epochValue = options.epoch ?? 0;
    this.reportEverySamples = Math.max(1, Math.round(((options.reportEveryMs ?? 50) * options.sampleRate) / 1000));
    this.maxPendingSentences = options.maxPendingSentences ?? 256;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** Samples queued in the ring now (≤ capacity). */
  get bufferedSamples(): number {
    return this.length;
  }

  get bufferedMs(): number {
    return (this.length * 1000) / this.sampleRate;
  }

  /** Largest number of samples ever queued (≤ capacity). */
  get maxBufferedSamples(): number {
    return this.maxBuffered;
  }

  /** Samples of the current epoch received (accepted or skipped). */
  get receivedSamples(): number {
    return this.received;
  }

  /** Samples of the current epoch output (or skipped): the played position. */
  get playedSamples(): number {
    return this.played;
  }

  get playedMs(): number {
    return toMs(this.played, this.sampleRate);
  }

  /** Whether the last render output audio. */
  get playing(): boolean {
    return this.playingNow;
  }

  /** Queues one frame of `epoch`. Older epochs are stale; a newer one is an implicit clear. */
  push(epoch: number, sentenceId: number, samples: Int16Array | Float32Array): PushResult {
    if (epoch < this.epochValue) {
      this.counters.framesStale++;
      this.counters.samplesStale += samples.length;
      return 'stale';
    }
    if (epoch > this.epochValue) {
      this.clear(epoch);
      this.counters.implicitClears++;
    }
    this.openSentence = true;
    this.lastSentenceId = sentenceId;
    const n = samples.length;
    if (this.length + n > this.capacity) {
      this.counters.framesOverflow++;
      this.counters.samplesOverflow += n;
      this.addSkip(this.received, n);
      this.received += n;
      this.advance();
      return 'overflow';
    }
    let write = (this.readIndex + this.length) % this.capacity;
    const scale = samples instanceof Int16Array ? 1 / 32768 : 1;
    for (let i = 0; i < n; i++) {
      this.ring[write] = (samples[i] ?? 0) * scale;
      write = write + 1 === this.capacity ? 0 : write + 1;
    }
    this.length += n;
    this.received += n;
    if (this.length > this.maxBuffered) this.maxBuffered = this.length;
    this.counters.framesAccepted++;
    return 'accepted';
  }

  /** The sentence ends at the current position; it is acknowledged once playback passes it. */
  sentenceEnd(epoch: number, sentenceId: number): boolean {
    if (epoch !== this.epochValue) return false;
    if (sentenceId === this.lastSentenceId) this.openSentence = false;
    if (this.markers.length >= this.maxPendingSentences) {
      this.markers.shift();
      this.counters.sentenceMarkersDropped++;
    }
    this.markers.push({ position: this.received, sentenceId });
    this.advance();
    return true;
  }

  /** Drops everything queued and moves to `newEpoch`; returns samples dropped, or undefined if not newer. */
  clear(newEpoch: number): number | undefined {
    if (newEpoch <= this.epochValue) {
      this.counters.staleClears++;
      return undefined;
    }
    const dropped = this.length;
    this.epochValue = newEpoch;
    this.readIndex = 0;
    this.length = 0;
    this.received = 0;
    this.played = 0;
    this.lastReported = 0;
    this.playingNow = false;
    this.openSentence = false;
    this.lastSentenceId = -1;
    this.skips = [];
    this.markers = [];
    this.acks = [];
    this.counters.clears++;
    return dropped;
  }

  /** Fills `out` from the ring (silence after it runs dry); returns the samples of audio output. */
  render(out: Float32Array): number {
    const n = Math.min(out.length, this.length);
    const first = Math.min(n, this.capacity - this.readIndex);
    out.set(this.ring.subarray(this.readIndex, this.readIndex + first), 0);
    if (n > first) out.set(this.ring.subarray(0, n - first), first);
    out.fill(0, n);
    if (n > 0) {
      this.readIndex = (this.readIndex + n) % this.capacity;
      this.length -= n;
      this.playingNow = true;
      this.consume(n);
    }
    if (n < out.length && this.playingNow) {
      this.playingNow = false;
      if (this.openSentence) this.counters.underruns++;
    }
    return n;
  }

  /**
   * The played report due now, if any: after `reportEveryMs` of output, or when the ring has
   * drained. Positions only grow within an epoch, so reports are strictly increasing.
   */
  takeReport(): PlayedReport | undefined {
    if (this.played <= this.lastReported) return undefined;
    if (this.length > 0 && this.played - this.lastReported < this.reportEverySamples) return undefined;
    this.lastReported = this.played;
    this.counters.reports++;
    return { epoch: this.epochValue, playedMs: toMs(this.played, this.sampleRate) };
  }

  /** Sentence acks ready to send (each returned once). */
  takeAcks(): readonly SentenceAck[] {
    if (this.acks.length === 0) return EMPTY;
    const acks = this.acks;
    this.acks = [];
    return acks;
  }

  private consume(n: number): void {
    this.applySkips();
    let remaining = n;
    while (remaining > 0) {
      const next = this.skips[0];
      const step = next === undefined ? remaining : Math.min(remaining, next.at - this.played);
      this.played += step;
      remaining -= step;
      this.applySkips();
    }
    this.advance();
  }

  private addSkip(at: number, count: number): void {
    const last = this.skips[this.skips.length - 1];
    // Adjacent skips merge; past the bound the last one absorbs the new one (counts stay right,
    // the jump happens a little early): memory stays bounded whatever the server does.
    if (last !== undefined && (last.at + last.count === at || this.skips.length >= MAX_SKIPS)) {
      last.count += count;
      return;
    }
    this.skips.push({ at, count });
  }

  private applySkips(): void {
    let next = this.skips[0];
    while (next !== undefined && next.at <= this.played) {
      this.played += next.count;
      this.skips.shift();
      next = this.skips[0];
    }
  }

  /** Applies due skips and turns passed sentence markers into acks. */
  private advance(): void {
    this.applySkips();
    let marker = this.markers[0];
    while (marker !== undefined && marker.position <= this.played) {
      this.markers.shift();
      if (this.acks.length >= this.maxPendingSentences) {
        this.acks.shift();
        this.counters.acksDropped++;
      }
      this.acks.push({ epoch: this.epochValue, sentenceId: marker.sentenceId });
      marker = this.markers[0];
    }
  }
}

const EMPTY: readonly SentenceAck[] = [];

/** Position in ms, rounded down to the microsecond so a report never overstates playback. */
function toMs(samples: number, sampleRate: number): number {
  return Math.floor((samples * 1_000_000) / sampleRate) / 1000;
}
