/**
 * The browser session's outbound audio path: PCM16 cut into binary frames (seq counted per epoch),
 * `sentence_end` after a sentence's last frame, and `clear` when the epoch moves on. Audio of an
 * epoch newer than the client knows is preceded by a `clear`, so the client never has to guess;
 * audio of an older epoch is dropped. The transport checks readiness before calling in.
 */
import type { OutboundAudio } from '../transport.js';
import { MAX_AUDIO_FRAME_MS, encodeFrame, type ServerMessage, type WireRate } from './codec.js';
import type { BrowserTransportStats } from './transport-options.js';

const U32_MAX = 0xffffffff;

/** The counters this path keeps (the transport adds the link's and the mic's). */
export type OutboundAudioCounters = Pick<
  BrowserTransportStats,
  'framesSent' | 'bytesSent' | 'sentenceEndsSent' | 'clearsSent' | 'implicitClears' | 'staleSends' | 'oddBytesDropped'
>;

/** How frames and control messages leave; both never throw and return false when dropped. */
export interface OutboundAudioSink {
  readonly sendFrame: (frame: Uint8Array) => boolean;
  readonly sendControl: (message: ServerMessage) => boolean;
}

export class OutboundAudioPath {
  /** The epoch the client was last told about (in `ready` or a `clear`). */
  private epochValue: number;
  private seq = 0;
  private readonly sink: OutboundAudioSink;
  private readonly counts: OutboundAudioCounters = {
    framesSent: 0, bytesSent: 0, sentenceEndsSent: 0, clearsSent: 0, implicitClears: 0, staleSends: 0, oddBytesDropped: 0,
  };

  constructor(initialEpoch: number, sink: OutboundAudioSink) {
    this.epochValue = initialEpoch;
    this.sink = sink;
  }

  get epoch(): number {
    return this.epochValue;
  }

  get counters(): Readonly<OutboundAudioCounters> {
    return { ...this.counts };
  }

  /** Frames of at most MAX_AUDIO_FRAME_MS at `sampleRate`; a trailing odd byte is dropped (PCM16 needs whole samples). */
  sendAudio(chunk: OutboundAudio, sampleRate: WireRate): void {
    if (!this.enterEpoch(chunk.epoch)) return;
    let bytes = chunk.bytes;
    if (bytes.byteLength % 2 !== 0) {
      this.counts.oddBytesDropped++;
      bytes = bytes.subarray(0, bytes.byteLength - 1);
    }
    const maxBytes = (MAX_AUDIO_FRAME_MS * sampleRate * 2) / 1000;
    for (let offset = 0; offset < bytes.byteLength; offset += maxBytes) {
      const pcm = bytes.subarray(offset, Math.min(bytes.byteLength, offset + maxBytes));
      const frame = encodeFrame({
        kind: 'audio', sampleRate, epoch: chunk.epoch, seq: this.seq, sentenceId: chunk.sentenceId, pcm,
      });
      if (!this.sink.sendFrame(frame)) return;
      this.seq = (this.seq + 1) % (U32_MAX + 1);
      this.counts.framesSent++;
      this.counts.bytesSent += pcm.byteLength;
    }
  }

  endSentence(epoch: number, sentenceId: number): void {
    if (!this.enterEpoch(epoch)) return;
    if (this.sink.sendControl({ type: 'sentence_end', epoch, sentenceId })) this.counts.sentenceEndsSent++;
  }

  /** Moves to `newEpoch` (seq starts over); false, and nothing changes, when it is not newer. */
  moveTo(newEpoch: number): boolean {
    if (newEpoch <= this.epochValue) return false;
    this.epochValue = newEpoch;
    this.seq = 0;
    return true;
  }

  /** Tells the client about the current epoch: it drops everything queued. */
  sendClear(): void {
    if (this.sink.sendControl({ type: 'clear', epoch: this.epochValue })) this.counts.clearsSent++;
  }

  /** True when `epoch` may be sent now; a newer epoch is announced with a `clear` first. */
  private enterEpoch(epoch: number): boolean {
    if (epoch === this.epochValue) return true;
    if (epoch < this.epochValue) {
      this.counts.staleSends++;
      return false;
    }
    this.epochValue = epoch;
    this.seq = 0;
    if (this.sink.sendControl({ type: 'clear', epoch })) {
      this.counts.clearsSent++;
      this.counts.implicitClears++;
    }
    return true;
  }
}
