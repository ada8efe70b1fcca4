/**
 * The playout side of a fake Twilio caller, as a pure model with the clock passed in (so it can be
 * tested without timers): a FIFO of received audio and marks, played at 8 bytes/ms (μ-law 8 kHz).
 *
 * Twilio semantics modelled (/work/shared/protocols.md §3): audio of any size is buffered and
 * played in order; a mark is echoed when all audio sent before it has finished playing, at once if
 * nothing is buffered; `clear` empties the buffer and echoes every pending mark at once.
 * Everything kept is bounded (rings), whatever the length of the call.
 */

/** μ-law 8 kHz, the Twilio default; PCM16 players pass their own `bytesPerMs`. */
export const BYTES_PER_MS = 8;

/**
 * What a flush does to the marks still pending: echo them at once in order (Twilio, Telnyx,
 * SignalWire document this), echo them in reverse order, or drop them without an echo (Exotel's
 * docs do not say; the gateway must be right whichever a carrier does).
 */
export type ClearMarkPolicy = 'echo' | 'echo-reversed' | 'drop';

/** A fixed-capacity ring: keeps the newest `capacity` items; `total` counts every push. */
export class Ring<T> {
  private readonly items: T[] = [];
  private head = 0;
  total = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError('ring capacity must be > 0');
  }

  push(item: T): void {
    this.total++;
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }

  last(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items[(this.head + this.items.length - 1) % this.items.length];
  }

  get length(): number {
    return this.items.length;
  }
}

export type EchoCause = 'played' | 'clear';

export interface PlayerEcho {
  readonly name: string;
  readonly cause: EchoCause;
  /** When all audio before the mark had played (for `clear`: the clear time). */
  readonly dueAt: number;
  /** Total ms played by then. */
  readonly playedMs: number;
}

/** A stretch with nothing to play after playback had started. */
export interface DryPeriod {
  /** When the buffer ran dry (exact: the end of the last byte) or was cleared. */
  readonly start: number;
  /** When audio resumed; undefined while still dry. */
  end: number | undefined;
  readonly cause: 'drained' | 'clear';
}

interface Span {
  start: number;
  end: number;
}

type Item = { kind: 'audio'; bytes: Uint8Array; offset: number } | { kind: 'mark'; name: string };

export interface PlayerOptions {
  /** Called for every echo, in order. */
  readonly onEcho: (echo: PlayerEcho) => void;
  /** Most audio buffered (ms); audio beyond is dropped and reported by `enqueueAudio`. Default 10 min. */
  readonly maxBufferedMs?: number;
  /** Most marks pending at once. Default 10 000. */
  readonly maxPendingMarks?: number;
  /** Bytes of played audio kept for inspection. Default 30 s. */
  readonly playedAudioCap?: number;
  /** Bytes per ms of audio (μ-law 8 kHz: 8, the default; PCM16 8 kHz: 16). */
  readonly bytesPerMs?: number;
  /** What `clear` does to pending marks. Default 'echo'. */
  readonly clearMarks?: ClearMarkPolicy;
}

export class TwilioPlayer {
  private queue: Array<Item | undefined> = [];
  private qHead = 0;
  private pendingMarks = 0;
  private playhead = 0;
  private playing = false;
  private everPlayed = false;
  private readonly maxBufferedBytes: number;
  private readonly maxPendingMarks: number;
  private readonly audio: Uint8Array;
  private audioWrite = 0;
  private readonly spans = new Ring<Span>(10_000);
  /** Bytes waiting to play. */
  bufferedBytes = 0;
  /** Bytes played since the start. */
  playedBytes = 0;
  /** Bytes removed by `clear` without playing. */
  clearedBytes = 0;
  readonly dryPeriods = new Ring<DryPeriod>(1000);
  readonly bytesPerMs: number;

  constructor(private readonly options: PlayerOptions) {
    this.bytesPerMs = options.bytesPerMs ?? BYTES_PER_MS;
    this.maxBufferedBytes = (options.maxBufferedMs ?? 600_000) * this.bytesPerMs;
    this.maxPendingMarks = options.maxPendingMarks ?? 10_000;
    this.audio = new Uint8Array(options.playedAudioCap ?? 30_000 * this.bytesPerMs);
  }

  get bufferedMs(): number {
    return this.bufferedBytes / this.bytesPerMs;
  }

  get playedMs(): number {
    return this.playedBytes / this.bytesPerMs;
  }

  /** Plays everything due by `now` and echoes the marks reached. */
  advance(now: number): void {
    for (;;) {
      const item = this.queue[this.qHead];
      if (item === undefined) break;
      if (item.kind === 'mark') {
        this.shift();
        this.pendingMarks--;
        this.options.onEcho({ name: item.name, cause: 'played', dueAt: this.playhead, playedMs: this.playedMs });
        continue;
      }
      const available = Math.floor((now - this.playhead) * this.bytesPerMs + 1e-9);
      if (available <= 0) return;
      const take = Math.min(item.bytes.length - item.offset, available);
      this.play(item.bytes, item.offset, take);
      item.offset += take;
      if (item.offset === item.bytes.length) this.shift();
    }
    if (this.playing) {
      this.playing = false;
      this.dryPeriods.push({ start: this.playhead, end: undefined, cause: 'drained' });
    }
    if (this.playhead < now) this.playhead = now;
  }

  /**
   * True when `advance(now)` would finish the audio playing now, and so could echo a mark or record a
   * dry period; false when it would only play part of it, or nothing is queued. A caller ticking many
   * players can skip the rest: one later `advance` plays the skipped time in one step, with the same
   * echoes, dry periods and played bytes (only `playedMs`/`bufferedMs` are stale in between).
   */
  headEndsBy(now: number): boolean {
    const item = this.queue[this.qHead];
    if (item === undefined) return false;
    if (item.kind === 'mark') return true;
    // The same arithmetic as `advance`, so both agree on the boundary.
    return Math.floor((now - this.playhead) * this.bytesPerMs + 1e-9) >= item.bytes.length - item.offset;
  }

  /** Appends audio; returns the bytes dropped because the buffer was full (a violation). */
  enqueueAudio(bytes: Uint8Array, now: number): number {
    this.advance(now);
    const room = Math.max(0, this.maxBufferedBytes - this.bufferedBytes);
    const kept = bytes.length <= room ? bytes : bytes.subarray(0, room);
    if (kept.length > 0) {
      this.queue.push({ kind: 'audio', bytes: kept, offset: 0 });
      this.bufferedBytes += kept.length;
      if (!this.playing) this.resume(now);
    }
    return bytes.length - kept.length;
  }

  /** Appends a mark (echoed at once if nothing is buffered); false if too many are pending. */
  enqueueMark(name: string, now: number): boolean {
    this.advance(now);
    if (this.pendingMarks >= this.maxPendingMarks) return false;
    this.queue.push({ kind: 'mark', name });
    this.pendingMarks++;
    this.advance(now);
    return true;
  }

  /** Empties the buffer; pending marks are echoed at once (cause `clear`) or dropped, per `clearMarks`. */
  clear(now: number): { droppedBytes: number; flushedMarks: number } {
    this.advance(now);
    const droppedBytes = this.bufferedBytes;
    let flushedMarks = 0;
    const items = this.queue.slice(this.qHead);
    this.queue = [];
    this.qHead = 0;
    this.bufferedBytes = 0;
    this.pendingMarks = 0;
    this.clearedBytes += droppedBytes;
    if (this.playing) {
      this.playing = false;
      this.dryPeriods.push({ start: now, end: undefined, cause: 'clear' });
    }
    const policy = this.options.clearMarks ?? 'echo';
    const marks = items.filter((item) => item?.kind === 'mark').map((item) => (item as { name: string }).name);
    flushedMarks = marks.length;
    if (policy === 'echo-reversed') marks.reverse();
    if (policy !== 'drop') for (const name of marks) this.options.onEcho({ name, cause: 'clear', dueAt: now, playedMs: this.playedMs });
    return { droppedBytes, flushedMarks };
  }

  /** ms of audio played after `t` (up to the last `advance`). Spans older than the ring are forgotten. */
  heardSince(t: number): number {
    let ms = 0;
    for (const span of this.spans.toArray()) ms += Math.max(0, span.end - Math.max(span.start, t));
    return ms;
  }

  /** The last played bytes (up to `playedAudioCap`), oldest first. */
  playedAudio(): Uint8Array {
    const cap = this.audio.length;
    if (this.playedBytes <= cap) return this.audio.slice(0, this.playedBytes);
    const out = new Uint8Array(cap);
    out.set(this.audio.subarray(this.audioWrite), 0);
    out.set(this.audio.subarray(0, this.audioWrite), cap - this.audioWrite);
    return out;
  }

  private resume(now: number): void {
    this.playing = true;
    this.playhead = Math.max(this.playhead, now);
    const dry = this.dryPeriods.last();
    if (dry !== undefined && dry.end === undefined) dry.end = now;
    this.everPlayed = true;
  }

  private play(bytes: Uint8Array, offset: number, count: number): void {
    const start = this.playhead;
    this.playhead += count / this.bytesPerMs;
    this.playedBytes += count;
    this.bufferedBytes -= count;
    const span = this.spans.last();
    if (span !== undefined && Math.abs(span.end - start) < 1e-6) span.end = this.playhead;
    else this.spans.push({ start, end: this.playhead });
    // Only the last `cap` bytes can survive in the ring: skip the ones that would be overwritten
    // (a load caller keeps a 1-byte ring and would otherwise loop over every byte it plays).
    const cap = this.audio.length;
    const skip = Math.max(0, count - cap);
    this.audioWrite = (this.audioWrite + skip) % cap;
    for (let i = skip; i < count; i++) {
      this.audio[this.audioWrite] = bytes[offset + i] ?? 0xff;
      this.audioWrite = (this.audioWrite + 1) % cap;
    }
  }

  private shift(): void {
    this.queue[this.qHead] = undefined;
    this.qHead++;
    // Compact now and then so the array does not grow with the length of the call.
    if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
  }

  /** True once any audio has been played (dry periods count only after that). */
  get started(): boolean {
    return this.everPlayed;
  }
}
