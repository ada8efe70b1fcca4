/**
 * The audio a caller was sent and has not confirmed playing, kept so that it can be sent again.
 *
 * A `clear` empties the caller's player. When the gateway cleared it on a guess (its own VAD heard
 * something that the model then did not call speech), the answer should go on from where the
 * caller stopped hearing it; but those bytes left the send queue long ago. This log keeps them,
 * with the sentence ends sent between them, on the epoch's timeline (ms since the epoch's first
 * send), and forgets them as the caller confirms playing them. Credit bounds what is sent and
 * unconfirmed (the window plus the prediction lead), so the log holds at most that; its byte
 * bound is a hard stop beyond it (the oldest audio goes first: a replay then starts later).
 *
 * Pure: no timers, no I/O. Storage is one ByteRing, given back whenever the log is empty.
 */
import { ByteRing } from './byte-ring.js';
import { Deque } from './deque.js';

interface LoggedAudio {
  readonly kind: 'audio';
  readonly itemId: string;
  readonly sentenceId: number;
  /** Position on the epoch's timeline (ms) and in the ring (bytes). */
  readonly startMs: number;
  readonly durationMs: number;
  readonly position: number;
  readonly length: number;
}

interface LoggedSentenceEnd {
  readonly kind: 'sentence-end';
  readonly sentenceId: number;
  readonly atMs: number;
}

type LoggedSend = LoggedAudio | LoggedSentenceEnd;

/** One thing to send again: audio (`bytes` of the replay at `offset`) or a sentence end. */
export type ReplayEntry =
  | { readonly kind: 'audio'; readonly itemId: string; readonly sentenceId: number; readonly offset: number; readonly length: number }
  | { readonly kind: 'sentence-end'; readonly sentenceId: number };

/** What to send again, in order: its own copy of the bytes. */
export interface Replay {
  readonly bytes: Uint8Array;
  readonly entries: readonly ReplayEntry[];
  /** Audio in it (ms). */
  readonly durationMs: number;
  /** Where on the old timeline it starts (ms): `fromMs`, or later when the log had lost the audio before. */
  readonly startMs: number;
}

/**
 * `first`, then the entries of `rest` from `fromIndex` on (a replay a new hold interrupted: what
 * it had not sent yet still follows what the caller did not hear of it).
 */
export function joinReplays(first: Replay, rest: Replay, fromIndex: number, bytesPerMs: number): Replay {
  const tail = rest.entries.slice(fromIndex);
  if (tail.length === 0) return first;
  const firstAudio = tail.find((e) => e.kind === 'audio');
  const restFrom = firstAudio?.kind === 'audio' ? firstAudio.offset : rest.bytes.length;
  const restBytes = rest.bytes.subarray(restFrom);
  const bytes = new Uint8Array(first.bytes.length + restBytes.length);
  bytes.set(first.bytes, 0);
  bytes.set(restBytes, first.bytes.length);
  const shift = first.bytes.length - restFrom;
  return {
    bytes,
    entries: [...first.entries, ...tail.map((e) => (e.kind === 'audio' ? { ...e, offset: e.offset + shift } : e))],
    durationMs: bytes.length / bytesPerMs,
    startMs: first.startMs,
  };
}

export interface SentLogOptions {
  /** Most bytes kept. */
  readonly maxBytes: number;
  /** Bytes per ms of the audio. */
  readonly bytesPerMs: number;
  /** Bytes per sample frame (a cut never splits one): 1 for μ-law, 2 for PCM16 mono. */
  readonly frameBytes: number;
  /** Most entries kept (audio sends and sentence ends). */
  readonly maxEntries: number;
}

export class SentAudioLog {
  private readonly ring: ByteRing;
  private readonly sends = new Deque<LoggedSend>();

  constructor(private readonly options: SentLogOptions) {
    if (!(options.bytesPerMs > 0) || !Number.isInteger(options.frameBytes) || options.frameBytes < 1 || !(options.maxEntries >= 1)) {
      throw new RangeError('bytesPerMs must be > 0, frameBytes and maxEntries whole numbers ≥ 1');
    }
    this.ring = new ByteRing(options.maxBytes, Math.min(4096, options.maxBytes));
  }

  /** Most bytes it keeps. */
  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Bytes of storage held now (0 when empty). */
  get storageBytes(): number {
    return this.ring.storageBytes;
  }

  /** Entries kept now. */
  get size(): number {
    return this.sends.length;
  }

  /** `bytes` were sent at `startMs` of the epoch's timeline. */
  audio(itemId: string, sentenceId: number, startMs: number, bytes: Uint8Array): void {
    const length = bytes.length;
    if (length === 0) return;
    if (length > this.options.maxBytes) {
      // Kept, it would leave a hole: what is kept must run up to the latest send.
      this.clear();
      return;
    }
    while (this.sends.length >= this.options.maxEntries || this.ring.length + length > this.options.maxBytes) this.forgetOldest();
    const position = this.ring.push(bytes);
    this.sends.push({ kind: 'audio', itemId, sentenceId, startMs, durationMs: length / this.options.bytesPerMs, position, length });
  }

  /** A sentence end was sent at `atMs` of the epoch's timeline. */
  sentenceEnd(sentenceId: number, atMs: number): void {
    while (this.sends.length >= this.options.maxEntries) this.forgetOldest();
    this.sends.push({ kind: 'sentence-end', sentenceId, atMs });
  }

  /**
   * The caller confirmed playing up to `playedMs`: the audio before it is forgotten, and so are the
   * sentence ends before it (one exactly at it may still be echoing: it stays, a second echo of a
   * sentence end is harmless).
   */
  played(playedMs: number): void {
    for (let first = this.sends.peek(); first !== undefined; first = this.sends.peek()) {
      const end = first.kind === 'audio' ? first.startMs + first.durationMs : first.atMs;
      if (first.kind === 'audio' ? end > playedMs : end >= playedMs) break;
      this.forgetOldest();
    }
    if (this.sends.length === 0) this.ring.releaseStorage();
  }

  /**
   * What to send again for the caller to hear everything from `fromMs` on: first the sentence ends
   * at or before it (played, but their echoes may have been flushed), then the audio from `fromMs`
   * (the first send cut there, on a frame boundary) with the sentence ends between. The log is
   * empty afterwards.
   */
  takeFrom(fromMs: number): Replay {
    const { bytesPerMs, frameBytes } = this.options;
    const early: ReplayEntry[] = [];
    const rest: ReplayEntry[] = [];
    /** Where each audio entry of `rest` starts in the ring. */
    const positions: number[] = [];
    let offset = 0;
    let startMs = Infinity;
    for (let send = this.sends.shift(); send !== undefined; send = this.sends.shift()) {
      if (send.kind === 'sentence-end') {
        (send.atMs <= fromMs ? early : rest).push({ kind: 'sentence-end', sentenceId: send.sentenceId });
        continue;
      }
      if (send.startMs + send.durationMs <= fromMs) continue;
      const skipBytes = Math.max(0, Math.floor(((fromMs - send.startMs) * bytesPerMs) / frameBytes) * frameBytes);
      const length = send.length - skipBytes;
      if (length <= 0) continue; // the point fell on the send's end (rounding)
      startMs = Math.min(startMs, send.startMs + skipBytes / bytesPerMs);
      positions.push(send.position + skipBytes);
      rest.push({ kind: 'audio', itemId: send.itemId, sentenceId: send.sentenceId, offset, length });
      offset += length;
    }
    // One copy out of the ring (still holding every byte: shifting entries released nothing).
    const bytes = new Uint8Array(offset);
    let next = 0;
    for (const entry of rest) {
      if (entry.kind !== 'audio') continue;
      bytes.set(this.ring.view(positions[next++]!, entry.length), entry.offset);
    }
    this.clear();
    return { bytes, entries: [...early, ...rest], durationMs: offset / bytesPerMs, startMs: startMs === Infinity ? fromMs : startMs };
  }

  /** Forgets everything (a barge-in, the call's end). */
  clear(): void {
    this.sends.clear();
    this.ring.clear();
  }

  private forgetOldest(): void {
    const oldest = this.sends.shift();
    if (oldest?.kind === 'audio') this.ring.release(oldest.position + oldest.length);
  }
}
